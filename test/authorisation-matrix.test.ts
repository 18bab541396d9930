import type { Bundle } from '@medplum/fhirtypes'
import { afterAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { consentResource, handoverBundle, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { appRoutes, PUBLIC_ROUTES } from './support/security.js'
import { createTestApp } from './support/test-app.js'

/*
 * The authorisation matrix: every protected route of the app x every kind of caller, with valid
 * tokens, against one patient. The routes come from the app itself; a route without an entry
 * here fails the suite. Every refusal must have its deny entry in the audit log.
 *
 * The patient: the GZA is custodian (consent, dossier); the GZA announced a transfer to DJI (not
 * accepted yet); the DT&V announced a departure owned by DV&O with COA as extra recipient; a GZA
 * doctor opened emergency access (so there is a review).
 */

const t = await createTestApp({ settings: { departureAuthorities: [URA.dtv] } })
afterAll(async () => t.close())

const OTHER_DTV = '90000009'
const OTHER_COA = '90000011'

/** The kinds of caller, each with a valid token of its own organisation. */
const CALLER_KINDS = {
  'caregiver of the custodian': { as: 'gzaDoctor' },
  'caregiver of the receiving organisation': { as: 'djiNurse' },
  'caregiver of an unrelated organisation': { as: 'otherGzaDoctor' },
  'regievoerder, task party': { as: 'regievoerder' },
  'regievoerder, not a task party': { as: 'regievoerder', claims: { org: OTHER_DTV, sub: 'dtv-other' } },
  'escort, task party': { as: 'dvoEscort' },
  'escort, not a task party': { as: 'kmarEscort' },
  'casemanager, task party': { as: 'coaCaseManager' },
  'casemanager, not a task party': { as: 'coaCaseManager', claims: { org: OTHER_COA, sub: 'coa-other' } },
  'privacy officer of the custodian': { as: 'privacyOfficer' },
  'privacy officer of an unrelated organisation': { as: 'djiPrivacyOfficer' },
} satisfies Record<string, { as: CallerName; claims?: Record<string, string> }>
type Kind = keyof typeof CALLER_KINDS
const KINDS = Object.keys(CALLER_KINDS) as Kind[]

/** The shared scenario's subscription: the others' are ended before a new one is made. */
let sharedSubscriptionId: string | undefined

async function scenario() {
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(consent.status, await consent.clone().text()).toBe(201)
  const consentId = ((await consent.json()) as { id: string }).id
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
  expect(upload.status, await upload.clone().text()).toBe(201)
  const bundle = (await upload.json()) as Bundle
  const { patient_id: patientId } = await t.db.selectFrom('bundle_version').select('patient_id').where('id', '=', bundle.id!).executeTakeFirstOrThrow()
  const start = new Date(t.clock.now().getTime() + 3 * 24 * 3600_000).toISOString()
  const transfer = await t.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource({ vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start }) })
  expect(transfer.status, await transfer.clone().text()).toBe(201)
  const departureSpec = { vNummer, requester: URA.dtv, owner: URA.dvo, recipients: [URA.coa], start }
  const departure = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource(departureSpec) })
  expect(departure.status, await departure.clone().text()).toBe(201)
  const emergency = await t.get(`/fhir/Patient/${patientId}/$handover`, { as: 'gzaDoctor', headers: { 'x-emergency-reason': 'Patient unresponsive, history needed now' } })
  expect(emergency.status, await emergency.clone().text()).toBe(200)
  const review = await t.db.selectFrom('emergency_access').select('id').where('patient_id', '=', patientId).executeTakeFirstOrThrow()
  const auditEvent = await t.db.selectFrom('audit_event').select('id').where('patient_id', '=', patientId).orderBy('id').executeTakeFirstOrThrow()
  // The receiving medical service registered its endpoint for notifications (one live at a time:
  // an organisation may hold only so many).
  await t.db.updateTable('subscription').set({ deleted_at: t.clock.now(), status: 'off' })
    .where('org', '=', URA.dji).where('deleted_at', 'is', null).where('id', '!=', sharedSubscriptionId ?? '').execute()
  const subscription = await t.post('/fhir/Subscription', { as: 'djiNurse', body: subscriptionResource(URA.dji) })
  expect(subscription.status, await subscription.clone().text()).toBe(201)
  return {
    auditEventId: String(auditEvent.id),
    subscriptionId: ((await subscription.json()) as { id: string }).id,
    vNummer,
    patientId,
    consentId,
    bundleId: bundle.id!,
    departureId: ((await departure.json()) as { id: string }).id,
    departureSpec,
    reviewId: review.id,
  }
}
type Scenario = Awaited<ReturnType<typeof scenario>>

function subscriptionResource(org: string) {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Inbox notifications',
    criteria: `Task?owner=${org}`,
    channel: { type: 'rest-hook', endpoint: 'https://93.184.215.14/overdracht/notify', payload: 'application/json' },
  }
}

interface Cell {
  method: string
  path: string
  body?: unknown
}

interface Entry {
  /** Whether a permitted request changes the patient's state: each caller then gets a patient of its own. */
  mutates: boolean
  request: (s: Scenario, kind: Kind) => Cell
  expected: Record<Kind, number>
}

/** Every kind gets `status`, except those listed. */
const all = (status: number, except: Partial<Record<Kind, number>> = {}): Record<Kind, number> =>
  Object.fromEntries(KINDS.map((k) => [k, except[k] ?? status])) as Record<Kind, number>
const CAREGIVERS = ['caregiver of the custodian', 'caregiver of the receiving organisation', 'caregiver of an unrelated organisation'] as const
const caregiversGet = (status: number) => Object.fromEntries(CAREGIVERS.map((k) => [k, status])) as Partial<Record<Kind, number>>
const identifier = (s: Scenario) => encodeURIComponent(`${SYSTEM.vNummer}|${s.vNummer}`)
const reason = { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Requested by the patient in writing' }] }
const dossierRead = { ...caregiversGet(403), 'caregiver of the custodian': 200 }
const perspective = { ...caregiversGet(200), 'caregiver of an unrelated organisation': 403, 'regievoerder, task party': 200, 'escort, task party': 200, 'casemanager, task party': 200 }

const MATRIX: Record<string, Entry> = {
  'POST /fhir/Bundle': {
    mutates: true,
    request: (s) => ({ method: 'POST', path: '/fhir/Bundle', body: handoverBundle(s.vNummer) }),
    expected: all(403, { 'caregiver of the custodian': 201 }),
  },
  'GET /fhir/Bundle/:id': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Bundle/${s.bundleId}` }),
    // Caregivers are told a consent token is needed, except the GZA doctor whose emergency window
    // is open (P2); everyone else is told nothing exists (P3).
    expected: all(404, dossierRead),
  },
  'GET /fhir/Bundle/:id/_history/:vid': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Bundle/${s.bundleId}/_history/1` }),
    expected: all(404, dossierRead),
  },
  'GET /fhir/Bundle/:id/_history': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Bundle/${s.bundleId}/_history` }),
    expected: all(404, dossierRead),
  },
  'GET /fhir/Patient/:id/$handover': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Patient/${s.patientId}/$handover` }),
    expected: all(404, dossierRead),
  },
  'POST /fhir/Patient/:id/$handover': {
    mutates: false,
    request: (s) => ({ method: 'POST', path: `/fhir/Patient/${s.patientId}/$handover` }),
    expected: all(404, dossierRead),
  },
  'GET /fhir/Patient/:id': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Patient/${s.patientId}` }),
    // The search's rule: the match only to caregivers related to the patient, 404 to other caregivers.
    expected: all(403, { ...caregiversGet(200), 'caregiver of an unrelated organisation': 404 }),
  },
  'GET /fhir/Patient': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Patient?identifier=${identifier(s)}` }),
    expected: all(403, caregiversGet(200)),
  },
  'POST /fhir/Consent': {
    mutates: true,
    request: (s, kind) => ({ method: 'POST', path: '/fhir/Consent', body: consentResource({ vNummer: s.vNummer, organization: orgOf(kind) }) }),
    expected: all(403, { 'caregiver of the custodian': 201 }),
  },
  'PUT /fhir/Consent/:id': {
    mutates: true,
    request: (s) => ({ method: 'PUT', path: `/fhir/Consent/${s.consentId}`, body: { ...consentResource({ vNummer: s.vNummer }), id: s.consentId, status: 'inactive' } }),
    expected: all(403, { 'caregiver of the custodian': 200 }),
  },
  'GET /fhir/Consent/:id': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Consent/${s.consentId}` }),
    expected: all(403, { 'caregiver of the custodian': 200 }),
  },
  'GET /fhir/Consent/:id/_history': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Consent/${s.consentId}/_history` }),
    expected: all(403, { 'caregiver of the custodian': 200 }),
  },
  'GET /fhir/Consent/:id/_history/:vid': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Consent/${s.consentId}/_history/1` }),
    expected: all(403, { 'caregiver of the custodian': 200 }),
  },
  'GET /fhir/Consent': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Consent?patient=${s.patientId}` }),
    expected: all(403, { 'caregiver of the custodian': 200 }),
  },
  'GET /fhir/Consent/$form-check': {
    mutates: false,
    // Every GZA or DJI caregiver may check its own organisation's patients (the answer is bounded
    // by custody: consent-forms.test.ts); an escort's caregiver holds no consents.
    request: () => ({ method: 'GET', path: '/fhir/Consent/$form-check' }),
    expected: all(403, caregiversGet(200)),
  },
  'POST /fhir/Consent/:id/$token': {
    mutates: true,
    request: (s) => ({
      method: 'POST',
      path: `/fhir/Consent/${s.consentId}/$token`,
      body: { resourceType: 'Parameters', parameter: [{ name: 'recipient', valueIdentifier: { system: SYSTEM.ura, value: URA.escort } }] },
    }),
    expected: all(403, { 'caregiver of the custodian': 200 }),
  },
  'POST /fhir/Task': {
    mutates: true,
    // Caregivers try a transfer, everyone else a case, each naming itself as requester.
    request: (s, kind) => ({
      method: 'POST',
      path: '/fhir/Task',
      body: taskResource({ vNummer: s.vNummer, code: (CAREGIVERS as readonly string[]).includes(kind) ? 'transfer' : 'case', requester: orgOf(kind), owner: URA.escort }),
    }),
    expected: all(403, { 'caregiver of the custodian': 201, 'regievoerder, task party': 201 }),
  },
  'PUT /fhir/Task': {
    mutates: true,
    // A conditional update by an identifier none of the caller's tasks has: a create, as POST.
    request: (s, kind) => {
      const identifier = { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` }
      return {
        method: 'PUT',
        path: `/fhir/Task?identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}`,
        body: {
          ...taskResource({ vNummer: s.vNummer, code: (CAREGIVERS as readonly string[]).includes(kind) ? 'transfer' : 'case', requester: orgOf(kind), owner: URA.escort }),
          identifier: [identifier],
        },
      }
    },
    expected: all(403, { 'caregiver of the custodian': 201, 'regievoerder, task party': 201 }),
  },
  'PUT /fhir/Task/:id': {
    mutates: true,
    // Accepting the departure: the owner's move.
    request: (s) => ({ method: 'PUT', path: `/fhir/Task/${s.departureId}`, body: { ...taskResource({ ...s.departureSpec, status: 'accepted' }), id: s.departureId } }),
    expected: all(404, {
      'escort, task party': 200,
      'regievoerder, task party': 403,
      'casemanager, task party': 403,
      'privacy officer of the custodian': 403,
      'privacy officer of an unrelated organisation': 403,
    }),
  },
  'GET /fhir/Task/:id': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Task/${s.departureId}` }),
    expected: all(404, {
      'regievoerder, task party': 200,
      'escort, task party': 200,
      'casemanager, task party': 200,
      'privacy officer of the custodian': 403,
      'privacy officer of an unrelated organisation': 403,
    }),
  },
  'GET /fhir/Task/:id/_history': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Task/${s.departureId}/_history` }),
    expected: all(404, {
      'regievoerder, task party': 200,
      'escort, task party': 200,
      'casemanager, task party': 200,
      'privacy officer of the custodian': 403,
      'privacy officer of an unrelated organisation': 403,
    }),
  },
  'GET /fhir/Task/:id/_history/:vid': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Task/${s.departureId}/_history/1` }),
    expected: all(404, {
      'regievoerder, task party': 200,
      'escort, task party': 200,
      'casemanager, task party': 200,
      'privacy officer of the custodian': 403,
      'privacy officer of an unrelated organisation': 403,
    }),
  },
  'GET /fhir/Task': {
    mutates: false,
    request: () => ({ method: 'GET', path: `/fhir/Task?owner=${URA.dvo}` }),
    expected: all(403, { 'escort, task party': 200 }),
  },
  'GET /fhir/Task/:id/$escort-card': {
    mutates: false,
    // The parties of the open departure (DT&V, DV&O, COA); caregivers of the custodian and the
    // receiver see the perspective but are no party of this departure.
    request: (s) => ({ method: 'GET', path: `/fhir/Task/${s.departureId}/$escort-card` }),
    expected: all(404, {
      'regievoerder, task party': 200,
      'escort, task party': 200,
      'casemanager, task party': 200,
      'privacy officer of the custodian': 403,
      'privacy officer of an unrelated organisation': 403,
    }),
  },
  'GET /fhir/Patient/$handelingsperspectief': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Patient/$handelingsperspectief?identifier=${identifier(s)}` }),
    expected: all(404, perspective),
  },
  'POST /fhir/Patient/$handelingsperspectief': {
    mutates: false,
    request: (s) => ({
      method: 'POST',
      path: '/fhir/Patient/$handelingsperspectief',
      body: { resourceType: 'Parameters', parameter: [{ name: 'identifier', valueIdentifier: { system: SYSTEM.vNummer, value: s.vNummer } }] },
    }),
    expected: all(404, perspective),
  },
  'POST /fhir/Patient/:id/$handelingsperspectief': {
    mutates: false,
    request: (s) => ({ method: 'POST', path: `/fhir/Patient/${s.patientId}/$handelingsperspectief` }),
    expected: all(404, perspective),
  },
  'GET /fhir/Patient/:id/$handelingsperspectief': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Patient/${s.patientId}/$handelingsperspectief` }),
    expected: all(404, perspective),
  },
  'GET /fhir/AuditEvent/:id': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/AuditEvent/${s.auditEventId}` }),
    // Entry ids count up: to a privacy officer whose organisation never held the patient, no such entry.
    expected: all(403, { 'privacy officer of the custodian': 200, 'privacy officer of an unrelated organisation': 404 }),
  },
  'GET /fhir/AuditEvent': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/AuditEvent?patient=${s.patientId}` }),
    expected: all(403, { 'privacy officer of the custodian': 200 }),
  },
  'GET /fhir/Patient/:id/$access-log': {
    mutates: false,
    request: (s) => ({ method: 'GET', path: `/fhir/Patient/${s.patientId}/$access-log` }),
    expected: all(403, { 'privacy officer of the custodian': 200 }),
  },
  'POST /fhir/Patient/:id/$erase': {
    mutates: true,
    request: (s) => ({ method: 'POST', path: `/fhir/Patient/${s.patientId}/$erase`, body: reason }),
    expected: all(403, { 'privacy officer of the custodian': 200 }),
  },
  'POST /fhir/Subscription': {
    mutates: false,
    // Each caller for its own organisation: an organisation's system registers its endpoint, a
    // privacy officer does not. For another organisation's URA: notifications.test.ts.
    request: (_s, kind) => ({ method: 'POST', path: '/fhir/Subscription', body: subscriptionResource(orgOf(kind)) }),
    expected: all(201, { 'privacy officer of the custodian': 403, 'privacy officer of an unrelated organisation': 403 }),
  },
  'GET /fhir/Subscription': {
    mutates: false,
    request: () => ({ method: 'GET', path: '/fhir/Subscription' }),
    expected: all(200, { 'privacy officer of the custodian': 403, 'privacy officer of an unrelated organisation': 403 }),
  },
  'GET /fhir/Subscription/:id': {
    mutates: false,
    // The DJI's subscription: another organisation's is not found.
    request: (s) => ({ method: 'GET', path: `/fhir/Subscription/${s.subscriptionId}` }),
    expected: all(404, { 'caregiver of the receiving organisation': 200, 'privacy officer of the custodian': 403, 'privacy officer of an unrelated organisation': 403 }),
  },
  'DELETE /fhir/Subscription/:id': {
    mutates: true,
    request: (s) => ({ method: 'DELETE', path: `/fhir/Subscription/${s.subscriptionId}` }),
    expected: all(404, { 'caregiver of the receiving organisation': 204, 'privacy officer of the custodian': 403, 'privacy officer of an unrelated organisation': 403 }),
  },
  'GET /admin/emergency-reviews': {
    mutates: false,
    request: () => ({ method: 'GET', path: '/admin/emergency-reviews' }),
    // Each privacy officer sees its own organisation's reviews only.
    expected: all(403, { 'privacy officer of the custodian': 200, 'privacy officer of an unrelated organisation': 200 }),
  },
  'POST /admin/emergency-reviews/:id/close': {
    mutates: true,
    request: (s) => ({ method: 'POST', path: `/admin/emergency-reviews/${s.reviewId}/close`, body: { conclusion: 'justified' } }),
    expected: all(403, { 'privacy officer of the custodian': 204 }),
  },
}

function orgOf(kind: Kind): string {
  const spec: { as: CallerName; claims?: Record<string, string> } = CALLER_KINDS[kind]
  return spec.claims?.org ?? URA_OF[spec.as]!
}
const URA_OF: Partial<Record<CallerName, string>> = {
  gzaDoctor: URA.gza,
  djiNurse: URA.dji,
  otherGzaDoctor: URA.otherGza,
  regievoerder: URA.dtv,
  dvoEscort: URA.dvo,
  kmarEscort: URA.kmar,
  coaCaseManager: URA.coa,
  privacyOfficer: URA.gza,
  djiPrivacyOfficer: URA.dji,
}
const tokenOf = (kind: Kind) => {
  const spec: { as: CallerName; claims?: Record<string, string> } = CALLER_KINDS[kind]
  return t.tokenFor(spec.as, spec.claims ?? {})
}

const protectedRoutes = appRoutes(t.app).filter((r) => !PUBLIC_ROUTES.includes(r.name))

describe('the authorisation matrix covers the app', () => {
  it('every protected route of the app has a matrix entry, and every entry is a route of the app', () => {
    expect(protectedRoutes.map((r) => r.name).sort()).toEqual(Object.keys(MATRIX).sort())
  })
})

const shared = await scenario()
sharedSubscriptionId = shared.subscriptionId

describe.each(Object.entries(MATRIX))('%s', (_route, entry) => {
  it.each(KINDS)('%s', async (kind) => {
    const s = entry.mutates ? await scenario() : shared
    const cell = entry.request(s, kind)
    const before = await t.db.selectFrom('audit_event').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow()
    const res = await t.request(cell.method, cell.path, { token: await tokenOf(kind), ...(cell.body !== undefined ? { body: cell.body } : {}) })
    const expected = entry.expected[kind]
    expect(res.status, `${cell.method} ${cell.path}: ${await res.clone().text()}`).toBe(expected)
    const entries = await t.db
      .selectFrom('audit_event')
      .selectAll()
      .where('id', '>', (before.id as string | null) ?? '0')
      .where('org_id', '=', orgOf(kind))
      .execute()
    if (expected >= 400) {
      expect(res.headers.get('content-type')).toContain('application/fhir+json')
      expect(entries.some((e) => e.outcome === 'deny'), `no deny audited for ${kind}`).toBe(true)
      expect(entries.some((e) => e.outcome === 'permit'), `a permit audited for a refused ${kind}`).toBe(false)
    } else {
      expect(entries.some((e) => e.outcome === 'permit'), `no permit audited for ${kind}`).toBe(true)
    }
  })
})
