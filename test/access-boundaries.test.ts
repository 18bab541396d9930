import type { Bundle, Parameters } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_TOKEN_LIFETIME_MS } from '../src/consent/consent.service.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { runRetentionIfDue } from '../src/retention/retention.service.js'
import { consentResource, handoverBundle, newVNummer, taskResource, type ConsentSpec } from './support/fhir-builders.js'
import { URA } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

const DAY = 24 * 3600_000
const text = (res: Response) => res.clone().text()

async function consented(extra: Partial<ConsentSpec> = {}) {
  const vNummer = newVNummer()
  const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer, ...extra }) })
  expect(res.status, await text(res)).toBe(201)
  const consent = (await res.json()) as { id: string }
  const row = await t.db.selectFrom('consent').select('patient_id').where('id', '=', consent.id).executeTakeFirstOrThrow()
  return { vNummer, consentId: consent.id, patientId: row.patient_id, token: res.headers.get('x-consent-token')! }
}

const tokenParams = (org: string): Parameters => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'recipient', valueIdentifier: { system: SYSTEM.ura, value: org } }],
})

describe('consent records and tokens belong to the organisations caring for the patient', () => {
  it('the recording organisation reads the consent with its signed form; an unrelated GZA location and an escort nurse cannot', async () => {
    const p = await consented()
    expect((await t.get(`/fhir/Consent/${p.consentId}`, { as: 'gzaDoctor' })).status).toBe(200)
    for (const as of ['otherGzaDoctor', 'escortNurse'] as const) {
      const one = await t.get(`/fhir/Consent/${p.consentId}`, { as })
      const list = await t.get(`/fhir/Consent?patient=${p.patientId}`, { as })
      expect(one.status, await text(one)).toBe(403)
      expect(list.status, await text(list)).toBe(403)
      expect(await one.text()).not.toContain('sourceAttachment')
    }
  })

  it('a caregiver of an unrelated organisation cannot issue itself a consent token or withdraw the consent', async () => {
    const p = await consented()
    const token = await t.post(`/fhir/Consent/${p.consentId}/$token`, { as: 'otherGzaDoctor', body: tokenParams(URA.otherGza) })
    expect(token.status, await text(token)).toBe(403)
    const withdraw = await t.put(`/fhir/Consent/${p.consentId}`, { as: 'otherGzaDoctor', body: { ...consentResource({ vNummer: p.vNummer }), id: p.consentId, status: 'inactive' } })
    expect(withdraw.status, await text(withdraw)).toBe(403)
    const audit = await t.db.selectFrom('audit_event').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(audit).toMatchObject({ outcome: 'deny', reason: 'deny-no-relationship', patient_id: p.patientId })
  })

  it('the receiving organisation of a transfer reads the consent once it has accepted the transfer, not before', async () => {
    const p = await consented()
    expect((await t.get(`/fhir/Consent/${p.consentId}`, { as: 'djiNurse' })).status).toBe(403)
    const spec = { vNummer: p.vNummer, code: 'transfer' as const, requester: URA.gza, owner: URA.dji }
    const task = await t.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource(spec) })
    expect(task.status, await text(task)).toBe(201)
    const { id } = (await task.json()) as { id: string }
    expect((await t.get(`/fhir/Consent/${p.consentId}`, { as: 'djiNurse' })).status).toBe(403)
    const accept = await t.put(`/fhir/Task/${id}`, { as: 'djiNurse', body: { ...taskResource({ ...spec, status: 'accepted' }), id } })
    expect(accept.status, await text(accept)).toBe(200)
    const read = await t.get(`/fhir/Consent/${p.consentId}`, { as: 'djiNurse' })
    expect(read.status, await text(read)).toBe(200)
  })

  it('an unknown consent is 404', async () => {
    expect((await t.get('/fhir/Consent/00000000-0000-4000-8000-000000000000', { as: 'gzaDoctor' })).status).toBe(404)
  })
})

describe('privacy officers act for their own care organisation', () => {
  it('a DT&V privacy officer can neither read a patient log nor erase the patient', async () => {
    const p = await consented()
    expect((await t.get(`/fhir/AuditEvent?patient=${p.patientId}`, { as: 'dtvPrivacyOfficer' })).status).toBe(403)
    const erase = await t.post(`/fhir/Patient/${p.patientId}/$erase`, {
      as: 'dtvPrivacyOfficer',
      body: { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Asked by nobody at all' }] },
    })
    expect(erase.status, await text(erase)).toBe(403)
    const key = await t.db.selectFrom('patient_key').selectAll().where('patient_id', '=', p.patientId).executeTakeFirstOrThrow()
    expect(key.wrapped_key).not.toBeNull()
  })

  it('the DJI privacy officer cannot read the log of a GZA patient DJI never took part in', async () => {
    const p = await consented()
    expect((await t.get(`/fhir/Patient/${p.patientId}/$access-log`, { as: 'djiPrivacyOfficer' })).status).toBe(403)
    expect((await t.get(`/fhir/Patient/${p.patientId}/$access-log`, { as: 'privacyOfficer' })).status).toBe(200)
  })
})

describe('precedence follows the order the service received consents, not the dates on the forms', () => {
  it('a refusal recorded after a consent wins even when its form carries an earlier date', async () => {
    const p = await consented({ dateTime: '2026-11-24T08:00:00Z' })
    const refusal = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: p.vNummer, status: 'rejected', dateTime: '2026-11-24' }) })
    expect(refusal.status, await text(refusal)).toBe(201)
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(p.vNummer) })
    expect(upload.status, await text(upload)).toBe(403)
  })

  it('a consent dated in the future is refused', async () => {
    const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: newVNummer(), dateTime: '2099-01-01T00:00:00Z' }) })
    const body = await text(res)
    expect(res.status, body).toBe(422)
    expect(JSON.parse(body).issue[0].expression).toEqual(['Consent.dateTime'])
  })
})

describe('tasks', () => {
  it('only the requester widens who may read the handelingsperspectief', async () => {
    const vNummer = newVNummer()
    const start = new Date(t.clock.now().getTime() + DAY).toISOString()
    const created = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, start }) })
    const task = (await created.json()) as { id: string }
    const body = (recipients: string[]) => ({ ...taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, start, recipients }), id: task.id })
    const byOwner = await t.put(`/fhir/Task/${task.id}`, { as: 'dvoEscort', body: body(['99999999']) })
    expect(byOwner.status, await text(byOwner)).toBe(403)
    const byRequester = await t.put(`/fhir/Task/${task.id}`, { as: 'regievoerder', body: body([URA.kmar]) })
    expect(byRequester.status, await text(byRequester)).toBe(200)
  })
})

describe('input that used to reach a 500', () => {
  it('a JSON null as the body of closing a review is a 400', async () => {
    const res = await t.post('/admin/emergency-reviews/x/close', { as: 'privacyOfficer', rawBody: 'null', headers: { 'content-type': 'application/json' } })
    expect(res.status, await text(res)).toBe(400)
  })
  it('a date search in year 0000 is a 400', async () => {
    const p = await consented()
    const res = await t.get(`/fhir/AuditEvent?patient=${p.patientId}&date=ge0000-01-01`, { as: 'privacyOfficer' })
    expect(res.status, await text(res)).toBe(400)
  })
})

describe('concurrency and lifetimes', () => {
  it('eight concurrent first mentions of a V-nummer create one patient', async () => {
    const vNummer = newVNummer()
    const before = Number((await t.db.selectFrom('patient').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
    const results = await Promise.all(
      Array.from({ length: 8 }, () => t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })),
    )
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201))
    const after = Number((await t.db.selectFrom('patient').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
    expect(after - before).toBe(1)
  })

  it('a seven-day token survives a key rotation', async () => {
    const p = await consented()
    await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(p.vNummer) })
    const res = await t.post(`/fhir/Consent/${p.consentId}/$token`, {
      as: 'gzaDoctor',
      body: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'recipient', valueIdentifier: { system: SYSTEM.organizationType, value: 'medical-escort' } },
          { name: 'period', valuePeriod: { end: new Date(t.clock.now().getTime() + 7 * DAY).toISOString() } },
        ],
      },
    })
    const token = ((await res.json()) as Parameters).parameter!.find((x) => x.name === 'token')!.valueString!
    await t.deps.consentKeys.rotate(MAX_TOKEN_LIFETIME_MS)
    t.clock.advance(2 * DAY)
    try {
      const read = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': token } })
      expect(read.status, await text(read)).toBe(200)
    } finally {
      t.clock.advance(-2 * DAY)
    }
  })

  it('a patient with only a consent form expires too', async () => {
    const p = await consented()
    const start = t.clock.now()
    t.clock.set(new Date(start.getTime() + 120 * DAY))
    try {
      await runRetentionIfDue(t.deps)
      const row = await t.db.selectFrom('consent').select('resource').where('id', '=', p.consentId).executeTakeFirstOrThrow()
      expect(row.resource).toBeNull()
      const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${p.vNummer}`)}`, { as: 'gzaDoctor' })
      expect(((await search.json()) as Bundle).total).toBe(0)
    } finally {
      t.clock.set(start)
    }
  })
})
