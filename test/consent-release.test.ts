import type { Bundle, OperationOutcome, Parameters } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSoapBigRegister } from '../src/big/soap-register.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { SignJWT, generateKeyPair, decodeJwt, decodeProtectedHeader } from 'jose'
import { consentResource, handoverBundle, newVNummer, type ConsentSpec } from './support/fhir-builders.js'
import { startFakeBigRegister, type FakeBigRegister } from './support/fake-big-register.js'
import { BIG_RECORDS, URA, type CallerName } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'

let t: TestApp
let fake: FakeBigRegister
beforeAll(async () => {
  fake = await startFakeBigRegister(BIG_RECORDS)
  // The BIG register is the real SOAP protocol over HTTP, answered by a local stand-in.
  t = await createTestApp({ register: createSoapBigRegister({ url: fake.url }) })
})
afterAll(async () => {
  await t?.close()
  await fake?.close()
})

const HOUR = 3600_000

interface Dossier {
  vNummer: string
  patientId: string
  consentId: string
  token: string
  bundleId: string
}

async function text(res: Response) {
  return res.clone().text()
}

/** Consent, upload and patient id for a new patient: the happy path every refusal is measured against. */
async function dossier(_unused?: undefined, spec: Partial<ConsentSpec> = {}): Promise<Dossier> {
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer, ...spec }) })
  expect(consent.status, await text(consent)).toBe(201)
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
  expect(upload.status, await text(upload)).toBe(201)
  const bundleId = ((await upload.json()) as Bundle).id!
  const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
  const patientId = ((await search.json()) as Bundle).entry![0]!.resource!.id!
  return { vNummer, patientId, consentId: ((await consent.json()) as { id: string }).id, token: consent.headers.get('x-consent-token')!, bundleId }
}

const readHandover = (d: Pick<Dossier, 'patientId'>, as: CallerName, headers: Record<string, string>) =>
  t.get(`/fhir/Patient/${d.patientId}/$handover`, { as, headers })

async function expectRefused(res: Response, status: number, fragment?: string) {
  const body = await res.text()
  expect(res.status, body).toBe(status)
  expect(res.headers.get('content-type')).toContain('application/fhir+json')
  const outcome = JSON.parse(body) as OperationOutcome
  expect(outcome.resourceType).toBe('OperationOutcome')
  if (fragment) expect(outcome.issue[0]?.diagnostics, body).toContain(fragment)
  expect(body).not.toContain('Testpersoon')
  return outcome
}

async function lastAudit() {
  return t.db.selectFrom('audit_event').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow()
}

describe('consent tokens release the dossier', () => {
  it('an escort nurse with the consent token reads the current dossier, and the permit is audited', async () => {
    const d = await dossier()
    const res = await readHandover(d, 'escortNurse', { 'x-consent-token': d.token })
    expect(res.status, await text(res)).toBe(200)
    expect(((await res.json()) as Bundle).id).toBe(d.bundleId)
    const audit = await lastAudit()
    expect(audit).toMatchObject({
      event_type: 'dossier.read',
      action: 'R',
      outcome: 'permit',
      reason: 'permit-consent',
      legal_basis: 'EXPLICIT_CONSENT',
      consent_id: d.consentId,
      patient_id: d.patientId,
      org_id: URA.escort,
      org_type: 'medical-escort',
      role: 'caregiver',
      big_number: '01000000330',
      break_glass: false,
    })
  })

  it('the consent token carries no V-nummer, BSN or medical data, and is an ES256 consent+jwt', async () => {
    const d = await dossier()
    const header = decodeProtectedHeader(d.token)
    expect(header).toMatchObject({ alg: 'ES256', typ: 'consent+jwt' })
    const claims = decodeJwt(d.token)
    expect(JSON.stringify(claims)).not.toContain(d.vNummer)
    expect(Object.keys(claims).sort()).toEqual(['aud', 'cid', 'exp', 'iat', 'iss', 'jti', 'pur', 'sub'])
    expect(claims.sub).toBe(d.patientId)
  })

  it('the public keys that verify consent tokens are published at /.well-known/jwks.json', async () => {
    const d = await dossier()
    const res = await t.get('/.well-known/jwks.json')
    const jwks = (await res.json()) as { keys: { kid: string; d?: string }[] }
    expect(jwks.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(d.token).kid)
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true)
  })
})

describe('tokens that are refused', () => {
  it("another patient's token is refused", async () => {
    const a = await dossier()
    const b = await dossier()
    await expectRefused(await readHandover(a, 'escortNurse', { 'x-consent-token': b.token }), 403, 'another patient')
    expect((await lastAudit()).reason).toBe('deny-token-other-patient')
  })

  it('an expired token is refused', async () => {
    const d = await dossier()
    t.clock.advance(25 * HOUR)
    try {
      await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': d.token }), 403, 'expired')
    } finally {
      t.clock.advance(-25 * HOUR)
    }
  })

  it('a tampered token is refused', async () => {
    const d = await dossier()
    const [h, p, s] = d.token.split('.')
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString())
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString('base64url')}.${s}`
    await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': forged }), 403, 'signature')
  })

  it('a token signed by an unknown key is refused', async () => {
    const d = await dossier()
    const { privateKey } = await generateKeyPair('ES256')
    const claims = decodeJwt(d.token)
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'consent+jwt', kid: 'someone-else' }).sign(privateKey)
    await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': foreign }), 403, 'unknown key')
    const sameKid = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'consent+jwt', kid: decodeProtectedHeader(d.token).kid! }).sign(privateKey)
    await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': sameKid }), 403, 'signature')
  })

  it('a token of the wrong type is refused: a caller token is no consent token', async () => {
    const d = await dossier()
    const callerToken = await t.tokenFor('escortNurse')
    await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': callerToken }), 403)
  })

  it('a token for another audience is refused', async () => {
    const other = await createTestApp({ settings: { consentTokenAudience: 'urn:somewhere-else' } })
    try {
      // The other instance shares nothing; its token fails on key and audience alike here.
      const vNummer = newVNummer()
      const res = await other.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
      expect(res.status, await text(res)).toBe(201)
      const d = await dossier()
      await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': res.headers.get('x-consent-token')! }), 403)
    } finally {
      await other.close()
    }
  })

  it('a token is refused on the next request after its consent is withdrawn', async () => {
    const d = await dossier()
    const ok = await readHandover(d, 'escortNurse', { 'x-consent-token': d.token })
    expect(ok.status, await text(ok)).toBe(200)
    const withdraw = await t.put(`/fhir/Consent/${d.consentId}`, { as: 'gzaDoctor', body: { ...consentResource({ vNummer: d.vNummer }), id: d.consentId, status: 'inactive' } })
    expect(withdraw.status, await text(withdraw)).toBe(200)
    expect(withdraw.headers.get('etag')).toBe('W/"2"')
    await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': d.token }), 403, 'withdrawn')
    expect((await lastAudit()).reason).toBe('deny-consent-not-active')
  })

  it('a token is refused after the consent period ends', async () => {
    const end = new Date(t.clock.now().getTime() + 2 * HOUR).toISOString()
    const d = await dossier(undefined, { period: { end } })
    // The token issued with the consent does not outlive the consent.
    expect(new Date(decodeJwt(d.token).exp! * 1000).toISOString()).toBe(end)
    const viaTokenOp = await t.post(`/fhir/Consent/${d.consentId}/$token`, {
      as: 'gzaDoctor',
      body: { resourceType: 'Parameters', parameter: [{ name: 'recipient', valueIdentifier: { system: SYSTEM.organizationType, value: 'medical-escort' } }] },
    })
    expect(viaTokenOp.status, await text(viaTokenOp)).toBe(200)
    const token = ((await viaTokenOp.json()) as Parameters).parameter!.find((p) => p.name === 'token')!.valueString!
    t.clock.advance(3 * HOUR)
    try {
      await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': token }), 403)
    } finally {
      t.clock.advance(-3 * HOUR)
    }
  })

  it('a token issued for another recipient is refused', async () => {
    const d = await dossier()
    const res = await t.post(`/fhir/Consent/${d.consentId}/$token`, {
      as: 'gzaDoctor',
      body: { resourceType: 'Parameters', parameter: [{ name: 'recipient', valueIdentifier: { system: SYSTEM.ura, value: URA.dji } }] },
    })
    expect(res.status, await text(res)).toBe(200)
    const token = ((await res.json()) as Parameters).parameter!.find((p) => p.name === 'token')!.valueString!
    await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': token }), 403, 'another recipient')
    const dji = await readHandover(d, 'djiNurse', { 'x-consent-token': token })
    expect(dji.status, await text(dji)).toBe(200)
  })

  it('a token issued to a caregiver by BIG number works for that caregiver only', async () => {
    const d = await dossier()
    const res = await t.post(`/fhir/Consent/${d.consentId}/$token`, {
      as: 'gzaDoctor',
      body: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'recipient', valueIdentifier: { system: SYSTEM.big, value: '01000000330' } },
          { name: 'period', valuePeriod: { end: new Date(t.clock.now().getTime() + 4 * HOUR).toISOString() } },
        ],
      },
    })
    expect(res.status, await text(res)).toBe(200)
    const out = (await res.json()) as Parameters
    const token = out.parameter!.find((p) => p.name === 'token')!.valueString!
    expect(out.parameter!.find((p) => p.name === 'expires')!.valueInstant).toBe(new Date(t.clock.now().getTime() + 4 * HOUR).toISOString())
    const ok = await readHandover(d, 'escortNurse', { 'x-consent-token': token })
    expect(ok.status, await text(ok)).toBe(200)
    await expectRefused(await readHandover(d, 'djiNurse', { 'x-consent-token': token }), 403)
  })

  it('a token issued before a key rotation still works until it expires, and the new key signs new tokens', async () => {
    const d = await dossier()
    const oldKid = decodeProtectedHeader(d.token).kid
    await t.deps.consentKeys.rotate(t.deps.settings.consentTokenTtlMs)
    const after = await t.post(`/fhir/Consent/${d.consentId}/$token`, { as: 'gzaDoctor', body: { resourceType: 'Parameters' } })
    expect(after.status, await text(after)).toBe(200)
    const newToken = ((await after.json()) as Parameters).parameter!.find((p) => p.name === 'token')!.valueString!
    expect(decodeProtectedHeader(newToken).kid).not.toBe(oldKid)
    const old = await readHandover(d, 'escortNurse', { 'x-consent-token': d.token })
    expect(old.status, await text(old)).toBe(200)
    const jwks = (await (await t.get('/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, decodeProtectedHeader(newToken).kid]))
    t.clock.advance(t.deps.settings.consentTokenTtlMs + HOUR)
    try {
      await expectRefused(await readHandover(d, 'escortNurse', { 'x-consent-token': d.token }), 403)
      const later = (await (await t.get('/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }
      expect(later.keys.map((k) => k.kid)).not.toContain(oldKid)
    } finally {
      t.clock.advance(-(t.deps.settings.consentTokenTtlMs + HOUR))
    }
  })
})

describe('the BIG register decides who is a caregiver (over the CIBG SOAP protocol)', () => {
  it.each([
    ['whose registration has ended', 'endedNurse'],
    ['who is suspended', 'suspendedDoctor'],
    ['whose profession is not allowed (tandarts)', 'tandarts'],
    ['whose BIG number is unknown', 'unknownBig'],
  ] as const)('a caregiver %s is refused even with a valid consent token and a caregiver role claim', async (_why, caller) => {
    const d = await dossier(undefined, { provisions: [{ purpose: ['handover'], orgType: ['medical-escort', 'gza'] }] })
    const res = await readHandover(d, caller, { 'x-consent-token': d.token })
    await expectRefused(res, 403, 'BIG register')
    expect((await lastAudit())).toMatchObject({ outcome: 'deny', reason: 'deny-big-not-verified' })
  })

  it('the register was asked over SOAP with the 11-digit number and the ListHcpApprox4 action', async () => {
    const requests = fake.requests()
    expect(requests.length).toBeGreaterThan(0)
    expect(JSON.stringify(requests)).toContain('ListHcpApprox4')
  })

  it('with the register unreachable and nothing cached, a dossier read fails closed with 503, and that is audited', async () => {
    const d = await dossier()
    const cold = await createTestApp({ register: createSoapBigRegister({ url: fake.url, timeoutMs: 1000 }) })
    try {
      await fake.setDown(true, '503')
      const res = await cold.get(`/fhir/Patient/${d.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': d.token } })
      const body = await res.text()
      expect(res.status, body).toBe(503)
      expect(JSON.parse(body).issue[0].diagnostics).toContain('BIG register')
      const audit = await cold.db.selectFrom('audit_event').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
      expect(audit).toMatchObject({ outcome: 'deny', reason: 'deny-big-unavailable' })
    } finally {
      await fake.setDown(false)
      await cold.close()
    }
  })
})

describe('P3 and P5', () => {
  it.each(['regievoerder', 'dvoEscort', 'coaCaseManager', 'privacyOfficer'] as const)(
    'a %s gets 404 for a dossier, with a valid token, as for one that does not exist',
    async (caller) => {
      const d = await dossier()
      const existing = await readHandover(d, caller, { 'x-consent-token': d.token })
      const missing = await t.get(`/fhir/Patient/00000000-0000-4000-8000-000000000000/$handover`, { as: caller, headers: { 'x-consent-token': d.token } })
      const a = await expectRefused(existing, 404)
      const b = await expectRefused(missing, 404)
      expect(a.issue).toEqual(b.issue)
      const bundle = await t.get(`/fhir/Bundle/${d.bundleId}`, { as: caller, headers: { 'x-consent-token': d.token } })
      await expectRefused(bundle, 404)
      expect((await lastAudit())).toMatchObject({ outcome: 'deny', reason: 'deny-not-caregiver' })
    },
  )

  it('with the consent refused, upload is refused with the guidance to hand the dossier to the patient', async () => {
    const vNummer = newVNummer()
    const refusal = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer, status: 'rejected' }) })
    expect(refusal.status, await text(refusal)).toBe(201)
    expect(refusal.headers.get('x-consent-token')).toBeNull()
    const before = await t.db.selectFrom('bundle_version').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
    await expectRefused(res, 403, 'Give the dossier to the patient and record a phone handover')
    const after = await t.db.selectFrom('bundle_version').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
    expect(Number(after.n)).toBe(Number(before.n))
    expect((await lastAudit())).toMatchObject({ event_type: 'dossier.upload', outcome: 'deny', reason: 'deny-no-consent' })
  })

  it('with no consent at all, upload is refused with the same guidance', async () => {
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(newVNummer()) })
    await expectRefused(res, 403, 'Give the dossier to the patient and record a phone handover')
  })

  it('an incomplete active consent (no signed form) is refused with the path of what is missing', async () => {
    const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: newVNummer(), withoutForm: true }) })
    const body = await res.text()
    expect(res.status, body).toBe(422)
    expect(JSON.parse(body).issue[0].expression).toEqual(['Consent.sourceAttachment'])
  })

  it('an escort caregiver may not record consent', async () => {
    const res = await t.post('/fhir/Consent', { as: 'escortNurse', body: consentResource({ vNummer: newVNummer() }) })
    await expectRefused(res, 403)
  })
})

describe('P2 emergency access', () => {
  it('without a token or reason the read is refused', async () => {
    const d = await dossier()
    await expectRefused(await readHandover(d, 'djiNurse', {}), 403, 'X-Consent-Token')
  })

  it('a reason shorter than 20 characters is refused, and audited', async () => {
    const d = await dossier()
    await expectRefused(await readHandover(d, 'djiNurse', { 'x-emergency-reason': 'too short reason' }), 400, '20 characters')
    expect((await lastAudit())).toMatchObject({ outcome: 'deny', reason: 'deny-emergency-reason' })
  })

  it('with a reason it opens the dossier for the window only, as break-the-glass, and the privacy officer reviews it', async () => {
    const d = await dossier()
    const reason = 'Acute chest pain during transport, need medication history'
    const res = await readHandover(d, 'djiNurse', { 'x-emergency-reason': reason })
    expect(res.status, await text(res)).toBe(200)
    expect((await lastAudit())).toMatchObject({ outcome: 'permit', reason: 'permit-emergency', legal_basis: 'CONFLICT_OF_DUTIES', break_glass: true })

    t.clock.advance(59 * 60_000)
    const again = await readHandover(d, 'djiNurse', {})
    expect(again.status, await text(again)).toBe(200)
    expect((await lastAudit())).toMatchObject({ reason: 'permit-emergency-window', break_glass: true })
    const otherCaller = await readHandover(d, 'escortNurse', {})
    await expectRefused(otherCaller, 403)
    t.clock.advance(2 * 60_000)
    await expectRefused(await readHandover(d, 'djiNurse', {}), 403)
    t.clock.advance(-61 * 60_000)

    const notOfficer = await t.get('/admin/emergency-reviews?status=open', { as: 'gzaDoctor' })
    await expectRefused(notOfficer, 403)
    // The DJI privacy officer sees its nurse's emergency access; the GZA's, whose patient it is, sees
    // it too and is the one who closes it: nobody reviews its own organisation's break-the-glass.
    const djiQueue = await t.get('/admin/emergency-reviews?status=open', { as: 'djiPrivacyOfficer' })
    expect(djiQueue.status, await text(djiQueue)).toBe(200)
    const { reviews } = (await djiQueue.json()) as { reviews: { id: string; patientId: string; reason: string; bigNumber: string }[] }
    const review = reviews.find((r) => r.patientId === d.patientId)!
    expect(review).toMatchObject({ reason, bigNumber: '91000000230' })
    const gzaQueue = (await (await t.get('/admin/emergency-reviews?status=open', { as: 'privacyOfficer' })).json()) as { reviews: { id: string }[] }
    expect(gzaQueue.reviews.some((r) => r.id === review.id)).toBe(true)

    const selfReview = await t.post(`/admin/emergency-reviews/${review.id}/close`, {
      as: 'djiPrivacyOfficer',
      rawBody: JSON.stringify({ conclusion: 'justified' }),
      headers: { 'content-type': 'application/json' },
    })
    await expectRefused(selfReview, 403)
    const close = await t.post(`/admin/emergency-reviews/${review.id}/close`, {
      as: 'privacyOfficer',
      rawBody: JSON.stringify({ conclusion: 'justified', note: 'Checked with the nurse' }),
      headers: { 'content-type': 'application/json' },
    })
    expect(close.status, await text(close)).toBe(204)
    const closed = (await (await t.get('/admin/emergency-reviews?status=closed', { as: 'djiPrivacyOfficer' })).json()) as { reviews: { id: string; conclusion: string }[] }
    expect(closed.reviews.find((r) => r.id === review.id)?.conclusion).toBe('justified')
    const twice = await t.post(`/admin/emergency-reviews/${review.id}/close`, {
      as: 'privacyOfficer',
      rawBody: JSON.stringify({ conclusion: 'justified' }),
      headers: { 'content-type': 'application/json' },
    })
    await expectRefused(twice, 409)
  })

  it('the emergency reason is stored encrypted, not as plain text', async () => {
    const d = await dossier()
    const reason = 'PLAINTEXT-CHECK reason that is long enough'
    const res = await readHandover(d, 'djiNurse', { 'x-emergency-reason': reason })
    expect(res.status, await text(res)).toBe(200)
    const rows = await t.db.selectFrom('emergency_access').selectAll().where('patient_id', '=', d.patientId).execute()
    expect(JSON.stringify(rows)).not.toContain('PLAINTEXT-CHECK')
  })
})

describe('restrictions the service cannot enforce are refused, never stored as if they held', () => {
  const withNestedDeny = (vNummer: string, restriction: Record<string, unknown>) => {
    const consent = consentResource({ vNummer }) as unknown as { provision: { provision: Record<string, unknown>[] } }
    consent.provision.provision[0]!.provision = [{ type: 'deny', ...restriction }]
    return consent
  }
  // securityLabel and class on a nested deny are enforced (consent-minimisation.test.ts); these are not.
  const cases: [string, Record<string, unknown>][] = [
    ['code', { code: [{ coding: [{ system: 'http://snomed.info/sct', code: '74732009' }] }] }],
    ['dataPeriod', { dataPeriod: { end: '2020-01-01' } }],
    ['data', { data: [{ meaning: 'instance', reference: { reference: 'Condition/x' } }] }],
    ['action', { action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'disclose' }] }] }],
  ]
  for (const [element, restriction] of cases) {
    it(`a nested deny on ${element} is refused with 422 naming the path, and nothing is stored`, async () => {
      const vNummer = newVNummer()
      const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: withNestedDeny(vNummer, restriction) })
      const outcome = await expectRefused(res, 422)
      const issue = outcome.issue.find((i) => i.code === 'not-supported')
      expect(issue?.expression, JSON.stringify(outcome)).toEqual([`Consent.provision.provision[0].provision[0].${element}`])
      const patients = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
      expect(((await patients.json()) as Bundle).total).toBe(0)
    })
  }

  it('a security label outside the sensitive categories, or a class that is not a resource type other than Patient, is refused with the path', async () => {
    for (const [restriction, path] of [
      [{ securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'TBOO' }] }, 'securityLabel[0]'],
      [{ securityLabel: [{ system: 'http://example.org/labels', code: 'PSY' }] }, 'securityLabel[0]'],
      [{ class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Patient' }] }, 'class[0]'],
      [{ class: [{ system: 'http://example.org/classes', code: 'Condition' }] }, 'class[0]'],
    ] as const) {
      const outcome = await expectRefused(await t.post('/fhir/Consent', { as: 'gzaDoctor', body: withNestedDeny(newVNummer(), restriction) }), 422)
      expect(outcome.issue.map((i) => i.expression?.[0]), JSON.stringify(outcome)).toContain(`Consent.provision.provision[0].provision[0].${path}`)
    }
  })

  it('a security label on a permit (rather than a nested deny) is refused: it would narrow the permit to that content', async () => {
    const consent = consentResource({ vNummer: newVNummer() }) as unknown as { provision: { provision: Record<string, unknown>[] } }
    consent.provision.provision[0]!.securityLabel = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }]
    const outcome = await expectRefused(await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consent }), 422)
    expect(outcome.issue.some((i) => i.code === 'not-supported' && i.expression?.[0] === 'Consent.provision.provision[0].securityLabel'), JSON.stringify(outcome)).toBe(true)
  })

  it('the same restriction on the root provision is refused too', async () => {
    const consent = consentResource({ vNummer: newVNummer() }) as unknown as { provision: Record<string, unknown> }
    consent.provision.securityLabel = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }]
    const outcome = await expectRefused(await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consent }), 422)
    expect(outcome.issue.some((i) => i.expression?.[0] === 'Consent.provision.securityLabel'), JSON.stringify(outcome)).toBe(true)
  })
})
