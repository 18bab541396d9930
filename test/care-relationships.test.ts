import type { Bundle, Parameters } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { exampleFitToTravelObservation, exampleHandoverBundle, exampleMedicalPostponementObservation } from '../src/perspective/examples.js'
import { consentResource, handoverBundle, newVNummer, taskResource, type TaskSpec } from './support/fhir-builders.js'
import { BIG, URA, type CallerName } from './support/people.js'
import { createTestApp, type RequestOptions, type TestApp } from './support/test-app.js'

/*
 * The release boundary tried as an attacker with valid tokens of other organisations would: no
 * organisation makes itself involved with a patient through a task, a consent or an upload of its
 * own. Every refusal is audited as a deny, and nothing changes.
 */

let t: TestApp
beforeAll(async () => {
  // One DT&V organisation is the configured departure authority; URA 90000009 is "another DT&V".
  t = await createTestApp({ settings: { departureAuthorities: [URA.dtv] } })
})
afterAll(async () => t?.close())

const DAY = 24 * 3600_000
const OTHER_DTV = '90000009'
const text = (res: Response) => res.clone().text()
const inDays = (n: number) => new Date(t.clock.now().getTime() + n * DAY).toISOString()
const reason = { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Requested by the patient in writing' }] }

/** A patient in the GZA's care: consent recorded by the GZA, a dossier with a granted postponement. */
async function gzaPatient(options: { postponedUntil?: string } = {}) {
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(consent.status, await text(consent)).toBe(201)
  const resources = options.postponedUntil
    ? [exampleMedicalPostponementObservation('granted', t.clock.now().toISOString(), { until: options.postponedUntil })]
    : []
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: exampleHandoverBundle(vNummer, resources) })
  expect(upload.status, await text(upload)).toBe(201)
  const bundleId = ((await upload.json()) as Bundle).id!
  const row = await t.db.selectFrom('bundle_version').select('patient_id').where('id', '=', bundleId).executeTakeFirstOrThrow()
  return { vNummer, bundleId, patientId: row.patient_id, consentId: ((await consent.json()) as { id: string }).id, token: consent.headers.get('x-consent-token')! }
}
type Patient = Awaited<ReturnType<typeof gzaPatient>>

/** What must stay as it was after a refused attack: counts, the escort's access, the perspective. */
async function snapshot(p: Patient) {
  const count = async (table: 'consent' | 'bundle_version' | 'task' | 'care_relationship' | 'emergency_access') =>
    Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('patient_id', '=', p.patientId).executeTakeFirstOrThrow()).n)
  const dossier = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': p.token } })
  const perspective = await t.get(`/fhir/Patient/${p.patientId}/$handelingsperspectief`, { as: 'gzaDoctor' })
  const key = await t.db.selectFrom('patient_key').select('wrapped_key').where('patient_id', '=', p.patientId).executeTakeFirstOrThrow()
  return {
    consents: await count('consent'),
    bundles: await count('bundle_version'),
    tasks: await count('task'),
    relationships: await count('care_relationship'),
    emergency: await count('emergency_access'),
    dossierStatus: dossier.status,
    dossierVersion: ((await dossier.json()) as Bundle).meta?.extension?.[0]?.valueInteger,
    perspective: await perspective.text(),
    keyKept: key.wrapped_key !== null,
  }
}

/** The newest audit entry: the refusal must be in the log, naming the patient where known. */
async function lastAudit() {
  return t.db.selectFrom('audit_event').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
}

async function expectRefusedAndAudited(res: Response, status: number, expectAudit: { reason?: string; patientId?: string; org?: string }) {
  expect(res.status, await text(res)).toBe(status)
  expect(res.headers.get('content-type')).toContain('application/fhir+json')
  const audit = await lastAudit()
  expect(audit.outcome, JSON.stringify(audit)).toBe('deny')
  if (expectAudit.reason) expect(audit.reason).toBe(expectAudit.reason)
  if (expectAudit.patientId) expect(audit.patient_id).toBe(expectAudit.patientId)
  if (expectAudit.org) expect(audit.org_id).toBe(expectAudit.org)
}

const asOtherDtv = async (): Promise<RequestOptions> => ({ token: await t.tokenFor('regievoerder', { org: OTHER_DTV, sub: 'dtv-other-1' }) })

describe('finding 1: a task of its own does not make an organisation involved', () => {
  it('an unrelated DJI caregiver cannot announce a case for a patient in the GZA care, nor a transfer of it', async () => {
    const p = await gzaPatient()
    const before = await snapshot(p)
    const caseTask = await t.post('/fhir/Task', { as: 'djiNurse', body: taskResource({ vNummer: p.vNummer, code: 'case', requester: URA.dji, owner: URA.escort }) })
    await expectRefusedAndAudited(caseTask, 403, { reason: 'deny-task-not-allowed', patientId: p.patientId })
    const transfer = await t.post('/fhir/Task', { as: 'djiNurse', body: taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.dji, owner: URA.escort }) })
    await expectRefusedAndAudited(transfer, 403, { reason: 'deny-no-relationship', patientId: p.patientId })
    const self = await t.post('/fhir/Task', { as: 'djiNurse', body: taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.dji, owner: URA.dji }) })
    expect(self.status, await text(self)).toBe(422)
    expect(await snapshot(p)).toEqual(before)
  })

  it('an organisation a departure names reads the flags its role allows and nothing else: no consent, token, dossier, withdrawal, log or erasure', async () => {
    const p = await gzaPatient()
    // The DT&V regievoerder names DJI as owner and the other GZA as an extra recipient.
    const task = await t.post('/fhir/Task', {
      as: 'regievoerder',
      body: taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.dji, recipients: [URA.otherGza, URA.coa], start: inDays(3) }),
    })
    expect(task.status, await text(task)).toBe(201)
    const before = await snapshot(p)
    const flags = await t.get(`/fhir/Patient/${p.patientId}/$handelingsperspectief`, { as: 'djiNurse' })
    expect(flags.status, await text(flags)).toBe(200)

    for (const as of ['djiNurse', 'otherGzaDoctor'] as const) {
      await expectRefusedAndAudited(await t.get(`/fhir/Consent/${p.consentId}`, { as }), 403, { reason: 'deny-no-relationship', patientId: p.patientId })
      await expectRefusedAndAudited(await t.get(`/fhir/Consent?patient=${p.patientId}`, { as }), 403, { reason: 'deny-no-relationship' })
      const token = await t.post(`/fhir/Consent/${p.consentId}/$token`, {
        as,
        body: { resourceType: 'Parameters', parameter: [{ name: 'recipient', valueIdentifier: { system: SYSTEM.ura, value: URA.dji } }] },
      })
      await expectRefusedAndAudited(token, 403, { reason: 'deny-no-relationship', patientId: p.patientId })
      await expectRefusedAndAudited(await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as }), 403, { reason: 'deny-no-consent-token', patientId: p.patientId })
      const withdraw = await t.put(`/fhir/Consent/${p.consentId}`, { as, body: { ...consentResource({ vNummer: p.vNummer }), id: p.consentId, status: 'inactive' } })
      await expectRefusedAndAudited(withdraw, 403, { reason: 'deny-no-relationship', patientId: p.patientId })
    }
    for (const as of ['djiPrivacyOfficer'] as const) {
      await expectRefusedAndAudited(await t.get(`/fhir/AuditEvent?patient=${p.patientId}`, { as }), 403, { reason: 'deny-no-relationship', patientId: p.patientId })
      await expectRefusedAndAudited(await t.get(`/fhir/Patient/${p.patientId}/$access-log`, { as }), 403, { reason: 'deny-no-relationship', patientId: p.patientId })
      await expectRefusedAndAudited(await t.post(`/fhir/Patient/${p.patientId}/$erase`, { as, body: reason }), 403, { reason: 'deny-no-relationship', patientId: p.patientId })
    }
    const coaPo = { token: await t.tokenFor('privacyOfficer', { org: URA.coa, org_type: 'coa', sub: 'po-coa-1' }) }
    await expectRefusedAndAudited(await t.post(`/fhir/Patient/${p.patientId}/$erase`, { ...coaPo, body: reason }), 403, { reason: 'deny-organisation-type' })
    expect(await snapshot(p)).toEqual(before)
  })

  it('a regievoerder of another DT&V organisation cannot announce a case naming itself, and so reads no flags', async () => {
    const p = await gzaPatient()
    const before = await snapshot(p)
    const opts = await asOtherDtv()
    const res = await t.post('/fhir/Task', {
      ...opts,
      body: taskResource({ vNummer: p.vNummer, code: 'case', requester: OTHER_DTV, owner: URA.coa, recipients: [URA.otherGza] }),
    })
    await expectRefusedAndAudited(res, 403, { reason: 'deny-task-not-allowed', org: OTHER_DTV })
    await expectRefusedAndAudited(await t.get(`/fhir/Patient/${p.patientId}/$handelingsperspectief`, opts), 404, { reason: 'deny-no-task', patientId: p.patientId })
    expect(await snapshot(p)).toEqual(before)
  })
})

describe('finding 2: consent for anyone', () => {
  it('a caregiver of another GZA cannot record a consent for a patient in the GZA care, nor read the dossier with it', async () => {
    const p = await gzaPatient()
    const before = await snapshot(p)
    const res = await t.post('/fhir/Consent', {
      as: 'otherGzaDoctor',
      body: consentResource({ vNummer: p.vNummer, organization: URA.otherGza, provisions: [{ purpose: ['handover'], org: [URA.otherGza] }] }),
    })
    await expectRefusedAndAudited(res, 403, { reason: 'deny-no-relationship', patientId: p.patientId })
    expect(res.headers.get('x-consent-token')).toBeNull()
    expect(await snapshot(p)).toEqual(before)
  })

  it('a refusal recorded by another organisation does not cut off the custodian handover', async () => {
    const p = await gzaPatient()
    const before = await snapshot(p)
    const refusal = await t.post('/fhir/Consent', { as: 'djiNurse', body: consentResource({ vNummer: p.vNummer, status: 'rejected', organization: URA.dji }) })
    await expectRefusedAndAudited(refusal, 403, { reason: 'deny-no-relationship', patientId: p.patientId })
    expect(await snapshot(p)).toEqual(before)
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: exampleHandoverBundle(p.vNummer) })
    expect(upload.status, await text(upload)).toBe(201)
  })

  it('a consent naming another organisation than the caller as recorder is refused with the path', async () => {
    const res = await t.post('/fhir/Consent', { as: 'djiNurse', body: consentResource({ vNummer: newVNummer(), organization: URA.gza }) })
    expect(res.status, await text(res)).toBe(422)
    expect(await text(res)).toContain('Consent.organization')
  })

  it('the first care organisation to record a consent for an unknown patient becomes its custodian, with provenance', async () => {
    const vNummer = newVNummer()
    const res = await t.post('/fhir/Consent', { as: 'djiNurse', body: consentResource({ vNummer, organization: URA.dji }) })
    expect(res.status, await text(res)).toBe(201)
    const { id } = (await res.json()) as { id: string }
    const rel = await t.db.selectFrom('care_relationship').selectAll().where('source_id', '=', id).executeTakeFirstOrThrow()
    expect(rel).toMatchObject({ org: URA.dji, kind: 'custodian', source_type: 'consent', established_by_org: URA.dji, established_by_user: 'dji-nurse-1', ends_at: null })
    const second = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
    expect(second.status, await text(second)).toBe(403)
  })
})

describe('finding 3: dossier replacement', () => {
  it('an unrelated DJI caregiver cannot replace a dossier whose perspective grants a medical postponement; the art. 64 block stays', async () => {
    const p = await gzaPatient({ postponedUntil: '2027-06-01' })
    const before = await snapshot(p)
    const fit = exampleHandoverBundle(p.vNummer, [exampleFitToTravelObservation('yes', t.clock.now().toISOString())])
    const res = await t.post('/fhir/Bundle', { as: 'djiNurse', body: fit })
    await expectRefusedAndAudited(res, 403, { reason: 'deny-no-relationship', patientId: p.patientId })
    expect(await snapshot(p)).toEqual(before)
    const departure = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.dvo, start: inDays(10) }) })
    expect(departure.status, await text(departure)).toBe(409)
  })

  it('the owner of a departure cannot move its date; the requester cannot move it into a granted postponement', async () => {
    const p = await gzaPatient({ postponedUntil: '2027-01-15' })
    const spec: TaskSpec = { vNummer: p.vNummer, requester: URA.dtv, owner: URA.dvo, start: '2027-02-01T09:00:00Z' }
    const created = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource(spec) })
    expect(created.status, await text(created)).toBe(201)
    const { id } = (await created.json()) as { id: string }
    const inside = { ...taskResource({ ...spec, start: '2026-12-20T09:00:00Z' }), id }
    await expectRefusedAndAudited(await t.put(`/fhir/Task/${id}`, { as: 'dvoEscort', body: inside }), 403, { reason: 'deny-task-not-allowed' })
    const byRequester = await t.put(`/fhir/Task/${id}`, { as: 'regievoerder', body: inside })
    expect(byRequester.status, await text(byRequester)).toBe(409)
    const row = await t.db.selectFrom('task').select(['planned_start', 'version']).where('id', '=', id).executeTakeFirstOrThrow()
    expect(row).toMatchObject({ planned_start: new Date('2027-02-01T09:00:00Z'), version: 1 })
  })
})

describe('finding 4: non-care organisations are never caregivers', () => {
  it.each(['kmar', 'dvo', 'dtv', 'coa'])('a "caregiver" token of a %s organisation with a registered BIG number reads no dossier, emergency or not', async (orgType) => {
    const p = await gzaPatient()
    const before = await snapshot(p)
    const token = await t.tokenFor('escortNurse', { org_type: orgType, org: '90000010', sub: `fake-${orgType}` })
    const emergency = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { token, headers: { 'x-emergency-reason': 'Patient collapsed at the gate, needs care now' } })
    await expectRefusedAndAudited(emergency, 404, { reason: 'deny-not-caregiver', patientId: p.patientId })
    const withToken = await t.get(`/fhir/Bundle/${p.bundleId}`, { token, headers: { 'x-consent-token': p.token } })
    await expectRefusedAndAudited(withToken, 404, { reason: 'deny-not-caregiver', patientId: p.patientId })
    expect(await snapshot(p)).toEqual(before)
  })
})

describe('finding 5: emergency access', () => {
  it('25 zero-width spaces are no reason', async () => {
    const p = await gzaPatient()
    const before = await snapshot(p)
    const res = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-emergency-reason': Buffer.from('\u200b'.repeat(25), 'utf8').toString('latin1') } })
    await expectRefusedAndAudited(res, 400, { reason: 'deny-emergency-reason', patientId: p.patientId })
    expect(await snapshot(p)).toEqual(before)
  })

  it('a UTF-8 reason is stored as written, and a header that is not UTF-8 is refused', async () => {
    const p = await gzaPatient()
    const written = 'Patiënt bewusteloos aangetroffen; geen aanspreekbare naaste — spoed'
    // What a real HTTP client sends: UTF-8 bytes, which Node hands over as latin1 characters.
    const onTheWire = Buffer.from(written, 'utf8').toString('latin1')
    const res = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-emergency-reason': onTheWire } })
    expect(res.status, await text(res)).toBe(200)
    const reviews = await t.get('/admin/emergency-reviews', { token: await t.tokenFor('privacyOfficer', { org: URA.escort, org_type: 'medical-escort', sub: 'po-escort-1' }) })
    expect(reviews.status, await text(reviews)).toBe(200)
    const listed = ((await reviews.json()) as { reviews: { patientId: string; reason: string }[] }).reviews.find((r) => r.patientId === p.patientId)
    expect(listed?.reason).toBe(written)
    const bad = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-emergency-reason': 'Bewusteloos \xff\xfe aangetroffen bij de poort' } })
    expect(bad.status, await text(bad)).toBe(400)
  })

  it('the emergency window is bound to the organisation and BIG number: a token of another organisation with the same subject does not reuse it', async () => {
    const p = await gzaPatient()
    const opened = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-emergency-reason': 'Patient collapsed at the gate, needs care now' } })
    expect(opened.status, await text(opened)).toBe(200)
    const again = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse' })
    expect(again.status, await text(again)).toBe(200)
    const sameSubOtherOrg = await t.tokenFor('djiNurse', { sub: 'escort-nurse-1' })
    await expectRefusedAndAudited(await t.get(`/fhir/Patient/${p.patientId}/$handover`, { token: sameSubOtherOrg }), 403, { reason: 'deny-no-consent-token' })
    const sameSubOtherBig = await t.tokenFor('escortNurse', { big: BIG.djiNurse })
    await expectRefusedAndAudited(await t.get(`/fhir/Patient/${p.patientId}/$handover`, { token: sameSubOtherBig }), 403, { reason: 'deny-no-consent-token' })
  })
})

describe('finding 6: authorisation before expensive work', () => {
  /** A body that never ends: a service that read it before deciding would never answer. */
  const endless = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"resourceType":"Bundle","type":"collection","entry":['))
      },
    })

  it.each(['regievoerder', 'dvoEscort', 'escortNurse', 'privacyOfficer'] as const)('a %s upload is refused before its body is read', async (as) => {
    const res = await t.app.request('/fhir/Bundle', {
      method: 'POST',
      // A declared 9 MB body, under the size limit, of which only the first bytes ever arrive.
      headers: { authorization: `Bearer ${await t.tokenFor(as)}`, 'content-type': 'application/fhir+json', 'content-length': '9000000' },
      body: endless(),
      duplex: 'half',
    } as RequestInit)
    expect(res.status, await text(res)).toBe(403)
    const audit = await lastAudit()
    expect(audit).toMatchObject({ outcome: 'deny', event_type: 'dossier.upload', detail: { refused: 'before-body' } })
  })

  it('a bundle with more entries than allowed is refused as too costly, before validation', async () => {
    const vNummer = newVNummer()
    expect((await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })).status).toBe(201)
    const bundle = handoverBundle(vNummer)
    const max = t.deps.settings.maxBundleEntries
    bundle.entry = [...bundle.entry!, ...Array.from({ length: max }, (_, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resource: { resourceType: 'Basic' as const, code: { text: 'x' } } }))]
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(res.status, await text(res)).toBe(422)
    expect(await text(res)).toContain('too-costly')
  })
})

describe('custody moves only by a transfer the custodian announces', () => {
  it('the receiver becomes custodian when it accepts; the sender keeps access until the task ends, then its privacy officer still answers for what it held', async () => {
    const p = await gzaPatient()
    const spec: TaskSpec = { vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(2) }
    const created = await t.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource(spec) })
    expect(created.status, await text(created)).toBe(201)
    const { id } = (await created.json()) as { id: string }
    // Announced, not accepted: the receiver sees the flags (all codes: it is a caregiver), not the consent.
    expect((await t.get(`/fhir/Patient/${p.patientId}/$handelingsperspectief`, { as: 'djiNurse' })).status).toBe(200)
    expect((await t.get(`/fhir/Consent/${p.consentId}`, { as: 'djiNurse' })).status).toBe(403)
    const accepted = await t.put(`/fhir/Task/${id}`, { as: 'djiNurse', body: { ...taskResource({ ...spec, status: 'accepted' }), id } })
    expect(accepted.status, await text(accepted)).toBe(200)
    expect((await t.get(`/fhir/Consent/${p.consentId}`, { as: 'djiNurse' })).status).toBe(200)
    expect((await t.get(`/fhir/Consent/${p.consentId}`, { as: 'gzaDoctor' })).status).toBe(200)
    const rel = await t.db.selectFrom('care_relationship').selectAll().where('source_id', '=', id).where('kind', '=', 'custodian').executeTakeFirstOrThrow()
    expect(rel).toMatchObject({ org: URA.dji, established_by_org: URA.gza })

    const done = await t.put(`/fhir/Task/${id}`, { as: 'djiNurse', body: { ...taskResource({ ...spec, status: 'completed', output: { method: 'dossier-released' } }), id } })
    expect(done.status, await text(done)).toBe(200)
    await expectRefusedAndAudited(await t.get(`/fhir/Consent/${p.consentId}`, { as: 'gzaDoctor' }), 403, { reason: 'deny-no-relationship' })
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: exampleHandoverBundle(p.vNummer) })
    expect(upload.status, await text(upload)).toBe(403)
    const djiUpload = await t.post('/fhir/Bundle', { as: 'djiNurse', body: exampleHandoverBundle(p.vNummer) })
    expect(djiUpload.status, await text(djiUpload)).toBe(201)
    expect((await t.get(`/fhir/AuditEvent?patient=${p.patientId}`, { as: 'privacyOfficer' })).status).toBe(200)
    expect((await t.get(`/fhir/AuditEvent?patient=${p.patientId}`, { as: 'djiPrivacyOfficer' })).status).toBe(200)

    // Emergency access by the former custodian is reviewed by the current one, and only it erases.
    const glass = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'gzaDoctor', headers: { 'x-emergency-reason': 'Former patient back at our clinic, unconscious' } })
    expect(glass.status, await text(glass)).toBe(200)
    const review = await t.db.selectFrom('emergency_access').select('id').where('patient_id', '=', p.patientId).where('org_id', '=', URA.gza).executeTakeFirstOrThrow()
    const conclusion = { conclusion: 'justified' }
    await expectRefusedAndAudited(await t.post(`/admin/emergency-reviews/${review.id}/close`, { as: 'privacyOfficer', body: conclusion }), 403, { reason: 'deny-other-organisation' })
    expect((await t.post(`/admin/emergency-reviews/${review.id}/close`, { as: 'djiPrivacyOfficer', body: conclusion })).status).toBe(204)
    await expectRefusedAndAudited(await t.post(`/fhir/Patient/${p.patientId}/$erase`, { as: 'privacyOfficer', body: reason }), 403, { reason: 'deny-no-relationship' })
    expect((await t.post(`/fhir/Patient/${p.patientId}/$erase`, { as: 'djiPrivacyOfficer', body: reason })).status).toBe(200)
  })

  it('a cancelled transfer leaves custody where it was', async () => {
    const p = await gzaPatient()
    const spec: TaskSpec = { vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(2) }
    const { id } = (await (await t.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource(spec) })).json()) as { id: string }
    expect((await t.put(`/fhir/Task/${id}`, { as: 'djiNurse', body: { ...taskResource({ ...spec, status: 'accepted' }), id } })).status).toBe(200)
    expect((await t.put(`/fhir/Task/${id}`, { as: 'gzaDoctor', body: { ...taskResource({ ...spec, status: 'cancelled' }), id } })).status).toBe(200)
    expect((await t.get(`/fhir/Consent/${p.consentId}`, { as: 'djiNurse' })).status).toBe(403)
    expect((await t.get(`/fhir/Consent/${p.consentId}`, { as: 'gzaDoctor' })).status).toBe(200)
  })
})

describe('finding 7: audit entries name the segment released, never its values', () => {
  it('a handelingsperspectief read is audited without the codes shown', async () => {
    const p = await gzaPatient()
    const task = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.dvo, start: inDays(3) }) })
    expect(task.status, await text(task)).toBe(201)
    const res = await t.get(`/fhir/Patient/${p.patientId}/$handelingsperspectief`, { as: 'dvoEscort' })
    expect(res.status, await text(res)).toBe(200)
    const codes = ((await res.json()) as Parameters).parameter!.filter((x) => x.name === 'flag').map((x) => x.part![0]!.valueCoding!.code!)
    expect(codes.length).toBeGreaterThan(0)
    const audit = await lastAudit()
    expect(audit).toMatchObject({ event_type: 'perspective.read', outcome: 'permit', data_segment: 'handelingsperspectief' })
    for (const code of codes) expect(JSON.stringify(audit.detail)).not.toContain(code)
  })
})

export type { CallerName }

describe('what an adversary found, closed', () => {
  it('a care organisation cannot claim custody of a patient known only through a departure that does not name it', async () => {
    const vNummer = newVNummer()
    const departure = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, start: inDays(3) }) })
    expect(departure.status, await text(departure)).toBe(201)
    const grab = await t.post('/fhir/Consent', { as: 'otherGzaDoctor', body: consentResource({ vNummer, organization: URA.otherGza }) })
    await expectRefusedAndAudited(grab, 403, { reason: 'deny-no-relationship' })
    const named = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, code: 'case', requester: URA.dtv, owner: URA.gza }) })
    expect(named.status, await text(named)).toBe(201)
    const custodian = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
    expect(custodian.status, await text(custodian)).toBe(201)
  })

  it('a caregiver of an unrelated organisation finds no patient by V-nummer or BSN; the custodian and a receiver do', async () => {
    const p = await gzaPatient()
    const search = (as: CallerName) => t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${p.vNummer}`)}`, { as })
    for (const as of ['otherGzaDoctor', 'djiNurse', 'escortNurse'] as const) {
      const res = await search(as)
      expect(res.status, await text(res)).toBe(200)
      expect(((await res.json()) as Bundle).total).toBe(0)
    }
    expect(((await (await search('gzaDoctor')).json()) as Bundle).total).toBe(1)
    const transfer = await t.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(2) }) })
    expect(transfer.status, await text(transfer)).toBe(201)
    expect(((await (await search('djiNurse')).json()) as Bundle).total).toBe(1)
  })

  it('emergency access to a patient lands in the custodian privacy officer queue, who closes it; the accessing organisation cannot review itself', async () => {
    const p = await gzaPatient()
    const res = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'otherGzaDoctor', headers: { 'x-emergency-reason': 'Patient collapsed at the gate, needs care now' } })
    expect(res.status, await text(res)).toBe(200)
    const otherPo = { token: await t.tokenFor('privacyOfficer', { org: URA.otherGza, sub: 'po-other-gza' }) }
    const own = (await (await t.get('/admin/emergency-reviews?status=open', otherPo)).json()) as { reviews: { id: string; patientId: string }[] }
    const review = own.reviews.find((r) => r.patientId === p.patientId)!
    const custodianQueue = (await (await t.get('/admin/emergency-reviews?status=open', { as: 'privacyOfficer' })).json()) as { reviews: { id: string }[] }
    expect(custodianQueue.reviews.map((r) => r.id)).toContain(review.id)
    const body = { conclusion: 'justified' }
    await expectRefusedAndAudited(await t.post(`/admin/emergency-reviews/${review.id}/close`, { ...otherPo, body }), 403, { reason: 'deny-other-organisation' })
    const closed = await t.post(`/admin/emergency-reviews/${review.id}/close`, { as: 'privacyOfficer', body })
    expect(closed.status, await text(closed)).toBe(204)
  })

  it('an unrelated caregiver cannot tell a known V-nummer or BSN from an unknown one, nor learn which identifiers belong together', async () => {
    const p = await gzaPatient()
    const unknown = newVNummer()
    const same = async (known: Response, other: Response) => {
      expect(known.status, await text(known)).toBe(other.status)
      const issues = async (res: Response) => ((await res.json()) as { issue: unknown[] }).issue
      expect(await issues(known)).toEqual(await issues(other))
    }
    const perspective = (v: string) => t.get(`/fhir/Patient/$handelingsperspectief?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${v}`)}`, { as: 'otherGzaDoctor' })
    await same(await perspective(p.vNummer), await perspective(unknown))
    const transfer = (v: string) => t.post('/fhir/Task', { as: 'otherGzaDoctor', body: taskResource({ vNummer: v, code: 'transfer', requester: URA.otherGza, owner: URA.dji }) })
    await same(await transfer(p.vNummer), await transfer(unknown))
    const upload = (v: string) => t.post('/fhir/Bundle', { as: 'otherGzaDoctor', body: handoverBundle(v) })
    await same(await upload(p.vNummer), await upload(unknown))
    // The victim's BSN on a bundle of the attacker's own patient: the collision is not revealed.
    const bsn = '111222333'
    expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(p.vNummer, [], { identifier: [{ system: SYSTEM.vNummer, value: p.vNummer }, { system: SYSTEM.bsn, value: bsn }] }) })).status).toBe(201)
    const own = newVNummer()
    expect((await t.post('/fhir/Consent', { as: 'otherGzaDoctor', body: consentResource({ vNummer: own, organization: URA.otherGza }) })).status).toBe(201)
    const colliding = await t.post('/fhir/Bundle', { as: 'otherGzaDoctor', body: handoverBundle(own, [], { identifier: [{ system: SYSTEM.vNummer, value: own }, { system: SYSTEM.bsn, value: bsn }] }) })
    expect(colliding.status, await text(colliding)).toBe(201)
    // The BSN stays with the patient that held it first: the squatter neither learns nor takes it.
    const byBsn = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.bsn}|${bsn}`)}`, { as: 'gzaDoctor' })
    expect(((await byBsn.json()) as Bundle).entry?.[0]?.resource?.id).toBe(p.patientId)
    const ownByBsn = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.bsn}|${bsn}`)}`, { as: 'otherGzaDoctor' })
    expect(((await ownByBsn.json()) as Bundle).total).toBe(0)
  })

  it('a BSN another organisation attached first does not block the custodian upload', async () => {
    const squatted = '123456782'
    const own = newVNummer()
    expect((await t.post('/fhir/Consent', { as: 'otherGzaDoctor', body: consentResource({ vNummer: own, organization: URA.otherGza }) })).status).toBe(201)
    const squat = await t.post('/fhir/Bundle', { as: 'otherGzaDoctor', body: handoverBundle(own, [], { identifier: [{ system: SYSTEM.vNummer, value: own }, { system: SYSTEM.bsn, value: squatted }] }) })
    expect(squat.status, await text(squat)).toBe(201)
    const p = await gzaPatient()
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(p.vNummer, [], { identifier: [{ system: SYSTEM.vNummer, value: p.vNummer }, { system: SYSTEM.bsn, value: squatted }] }) })
    expect(upload.status, await text(upload)).toBe(201)
  })

  it('the owner of a departure cannot move its end either', async () => {
    const vNummer = newVNummer()
    const spec: TaskSpec = { vNummer, requester: URA.dtv, owner: URA.dvo, start: inDays(3) }
    const created = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource(spec) })
    const { id } = (await created.json()) as { id: string }
    const withEnd = { ...taskResource(spec), id, executionPeriod: { start: spec.start, end: inDays(4) } }
    await expectRefusedAndAudited(await t.put(`/fhir/Task/${id}`, { as: 'dvoEscort', body: withEnd }), 403, { reason: 'deny-task-not-allowed' })
  })

  it.each(['date=2026-13-01', 'date=ge9999-99-99', 'date=eq2026-02-31'])('an impossible date in an audit search (%s) is a 400, not a 500', async (query) => {
    const p = await gzaPatient()
    const res = await t.get(`/fhir/AuditEvent?patient=${p.patientId}&${query}`, { as: 'privacyOfficer' })
    expect(res.status, await text(res)).toBe(400)
  })

  it('a privacy officer whose token names a non-care organisation type has no emergency reviews to list or close', async () => {
    const p = await gzaPatient()
    expect((await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'otherGzaDoctor', headers: { 'x-emergency-reason': 'Patient collapsed at the gate, needs care now' } })).status).toBe(200)
    const review = await t.db.selectFrom('emergency_access').select('id').where('patient_id', '=', p.patientId).executeTakeFirstOrThrow()
    const kmarOfficer = { token: await t.tokenFor('privacyOfficer', { org_type: 'kmar' }) }
    await expectRefusedAndAudited(await t.get('/admin/emergency-reviews', kmarOfficer), 403, { reason: 'deny-organisation-type' })
    await expectRefusedAndAudited(await t.post(`/admin/emergency-reviews/${review.id}/close`, { ...kmarOfficer, body: { conclusion: 'justified' } }), 403, { reason: 'deny-organisation-type' })
  })

  it('a non-caregiver token whose organisation type does not fit its role is not believed: a "gza" regievoerder cannot cancel the departure', async () => {
    const p = await gzaPatient()
    const spec: TaskSpec = { vNummer: p.vNummer, requester: URA.dtv, owner: URA.dvo, start: inDays(3) }
    const { id } = (await (await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource(spec) })).json()) as { id: string }
    const odd = { token: await t.tokenFor('regievoerder', { org_type: 'gza' }) }
    await expectRefusedAndAudited(await t.put(`/fhir/Task/${id}`, { ...odd, body: { ...taskResource({ ...spec, status: 'cancelled' }), id } }), 403, { reason: 'deny-organisation-type' })
    await expectRefusedAndAudited(await t.get(`/fhir/Patient/${p.patientId}/$handelingsperspectief`, odd), 404, { reason: 'deny-not-caregiver' })
    const row = await t.db.selectFrom('task').select('status').where('id', '=', id).executeTakeFirstOrThrow()
    expect(row.status).toBe('requested')
  })

  it('a Task or Parameters body larger than such a resource can be is refused with 413 before it is read or validated', async () => {
    const before = t.deps.validator.checkedInWorkers()
    const big = { ...taskResource({ vNummer: newVNummer(), requester: URA.kmar, owner: URA.dvo }), input: Array.from({ length: 20_000 }, () => ({ type: { text: 'x' } })) }
    const res = await t.post('/fhir/Task', { as: 'kmarEscort', body: big })
    expect(res.status, await text(res)).toBe(413)
    const close = await t.post('/admin/emergency-reviews/x/close', { as: 'privacyOfficer', rawBody: '['.repeat(70_000), headers: { 'content-type': 'application/json' } })
    expect(close.status, await text(close)).toBe(413)
    expect(t.deps.validator.checkedInWorkers()).toBe(before)
  })

  it.each(['/fhir/Consent/x%00', '/fhir/Patient/x%00/$handover', '/fhir/AuditEvent?patient=x%00', '/fhir/Patient?identifier=a|V%00'])(
    'a NUL in the URL (%s) is a 400, not a 500',
    async (path) => {
      const res = await t.get(path, { as: 'gzaDoctor' })
      expect(res.status, await text(res)).toBe(400)
      expect(res.headers.get('content-type')).toContain('application/fhir+json')
    },
  )
})
