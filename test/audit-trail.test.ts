import type { AuditEvent, Bundle } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyAuditChain } from '../src/audit/audit-verify.js'
import { validateFhirResource } from '../src/fhir/validation.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { runRetentionIfDue } from '../src/retention/retention.service.js'
import { consentResource, taskResource } from './support/fhir-builders.js'
import { URA } from './support/people.js'
import { patientWithDossier as scenarioPatientWithDossier } from './support/scenarios.js'
import { createTestApp, type TestApp } from './support/test-app.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

const DAY = 24 * 3600_000
const text = (res: Response) => res.clone().text()

const patientWithDossier = () => scenarioPatientWithDossier(t)

async function accessLog(patientId: string): Promise<AuditEvent[]> {
  const res = await t.get(`/fhir/Patient/${patientId}/$access-log`, { as: 'privacyOfficer' })
  expect(res.status, await text(res)).toBe(200)
  return ((await res.json()) as Bundle<AuditEvent>).entry!.map((e) => e.resource!)
}

const summary = (e: AuditEvent) =>
  `${e.subtype![0]!.code} ${e.outcome === '0' ? 'permit' : 'deny'}${e.purposeOfEvent?.some((p) => p.coding?.[0]?.code === 'BTG') ? ' break-glass' : ''} ${e.agent![1]!.who!.identifier!.value}`

describe('completeness', () => {
  it('a scripted handover yields exactly its events in the patient access log, in order', async () => {
    const p = await patientWithDossier()
    const read = (as: 'escortNurse' | 'djiNurse' | 'regievoerder', headers: Record<string, string>) => t.get(`/fhir/Bundle/${p.bundleId}`, { as, headers })
    const withToken = { 'x-consent-token': p.token }
    for (const as of ['escortNurse', 'djiNurse', 'escortNurse'] as const) expect((await read(as, withToken)).status).toBe(200)
    expect((await read('regievoerder', withToken)).status).toBe(404)
    expect((await read('escortNurse', {})).status).toBe(403)
    expect((await read('djiNurse', { 'x-emergency-reason': 'Seizure during transport, need medication list' })).status).toBe(200)
    const withdraw = await t.put(`/fhir/Consent/${p.consentId}`, { as: 'gzaDoctor', body: { ...consentResource({ vNummer: p.vNummer }), id: p.consentId, status: 'inactive' } })
    expect(withdraw.status, await text(withdraw)).toBe(200)
    expect((await read('escortNurse', withToken)).status).toBe(403)

    expect((await accessLog(p.patientId)).map(summary)).toEqual([
      `consent.record permit ${URA.gza}`,
      `dossier.upload permit ${URA.gza}`,
      `dossier.read permit ${URA.escort}`,
      `dossier.read permit ${URA.dji}`,
      `dossier.read permit ${URA.escort}`,
      `dossier.read deny ${URA.dtv}`,
      `dossier.read deny ${URA.escort}`,
      `dossier.read permit break-glass ${URA.dji}`,
      `consent.withdraw permit ${URA.gza}`,
      `dossier.read deny ${URA.escort}`,
    ])
  })

  it('reading the log is itself logged, and every AuditEvent is valid R4', async () => {
    const p = await patientWithDossier()
    const first = await accessLog(p.patientId)
    const res = await t.get(`/fhir/AuditEvent?patient=${p.patientId}&date=ge2026-11-01`, { as: 'privacyOfficer' })
    expect(res.status, await text(res)).toBe(200)
    const events = ((await res.json()) as Bundle<AuditEvent>).entry!.map((e) => e.resource!)
    expect(events.length).toBe(first.length + 1)
    expect(events.at(-1)!.subtype![0]!.code).toBe('audit.read')
    for (const e of events) expect(validateFhirResource(e), JSON.stringify(e)).toEqual([])
  })

  it('the date filter bounds the events', async () => {
    const p = await patientWithDossier()
    const res = await t.get(`/fhir/AuditEvent?patient=${p.patientId}&date=lt2026-01-01`, { as: 'privacyOfficer' })
    expect(((await res.json()) as Bundle).total).toBe(0)
  })

  it('only a privacy officer reads the audit log, and the refusal is audited', async () => {
    const p = await patientWithDossier()
    for (const as of ['gzaDoctor', 'regievoerder'] as const) {
      const res = await t.get(`/fhir/AuditEvent?patient=${p.patientId}`, { as })
      expect(res.status, await text(res)).toBe(403)
    }
    const last = await t.db.selectFrom('audit_event').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(last).toMatchObject({ event_type: 'audit.read', outcome: 'deny', patient_id: p.patientId })
  })

  it('a failed audit write fails the request: no dossier leaves without its log entry', async () => {
    const p = await patientWithDossier()
    await sql`create function refuse_reads() returns trigger language plpgsql as $$ begin
      if new.event_type = 'dossier.read' then raise exception 'audit store unavailable'; end if; return new; end $$`.execute(t.db)
    await sql`create trigger refuse_reads before insert on audit_event for each row execute function refuse_reads()`.execute(t.db)
    try {
      const res = await t.get(`/fhir/Bundle/${p.bundleId}`, { as: 'escortNurse', headers: { 'x-consent-token': p.token } })
      const body = await res.text()
      expect(res.status, body).toBe(500)
      expect(JSON.parse(body).resourceType).toBe('OperationOutcome')
      expect(body).not.toContain('Testpersoon')
      expect(body).not.toContain('audit store unavailable')
    } finally {
      await sql`drop trigger refuse_reads on audit_event`.execute(t.db)
      await sql`drop function refuse_reads()`.execute(t.db)
    }
    const ok = await t.get(`/fhir/Bundle/${p.bundleId}`, { as: 'escortNurse', headers: { 'x-consent-token': p.token } })
    expect(ok.status).toBe(200)
  })
})

describe('retention and erasure', () => {
  async function expectErased(p: Awaited<ReturnType<typeof patientWithDossier>>, auditBefore: number) {
    const read = await t.get(`/fhir/Bundle/${p.bundleId}`, { as: 'escortNurse', headers: { 'x-consent-token': p.token } })
    expect(read.status, await text(read)).toBe(404)
    const key = await t.db.selectFrom('patient_key').selectAll().where('patient_id', '=', p.patientId).executeTakeFirstOrThrow()
    expect(key.wrapped_key).toBeNull()
    const versions = await t.db.selectFrom('bundle_version').select('content').where('patient_id', '=', p.patientId).execute()
    expect(versions.every((v) => v.content === null)).toBe(true)
    const perspective = await t.db.selectFrom('perspective').selectAll().where('patient_id', '=', p.patientId).execute()
    expect(perspective.every((r) => r.erased_at !== null && JSON.stringify(r.flags) === '[]')).toBe(true)
    const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${p.vNummer}`)}`, { as: 'gzaDoctor' })
    expect(((await search.json()) as Bundle).total).toBe(0)
    const remaining = await t.db.selectFrom('audit_event').select((eb) => eb.fn.countAll().as('n')).where('patient_id', '=', p.patientId).executeTakeFirstOrThrow()
    expect(Number(remaining.n)).toBeGreaterThanOrEqual(auditBefore)
    const log = await accessLog(p.patientId)
    expect(log.some((e) => e.subtype![0]!.code === 'patient.erase')).toBe(true)
    expect((await verifyAuditChain(t.db, t.deps.auditKey)).ok).toBe(true)
  }

  const auditCount = async (patientId: string) =>
    Number((await t.db.selectFrom('audit_event').select((eb) => eb.fn.countAll().as('n')).where('patient_id', '=', patientId).executeTakeFirstOrThrow()).n)

  it('a privacy officer erasure request destroys the key at once; the dossier cannot be read, the audit entries remain', async () => {
    const p = await patientWithDossier()
    const before = await auditCount(p.patientId)
    const refused = await t.post(`/fhir/Patient/${p.patientId}/$erase`, { as: 'gzaDoctor', body: { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Patient asked for erasure' }] } })
    expect(refused.status, await text(refused)).toBe(403)
    const res = await t.post(`/fhir/Patient/${p.patientId}/$erase`, { as: 'privacyOfficer', body: { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Patient asked for erasure (art. 7:455 BW)' }] } })
    expect(res.status, await text(res)).toBe(200)
    await expectErased(p, before)
  })

  it('exchange copies expire the day after the retention period ends, not before; the job runs once a day', async () => {
    const p = await patientWithDossier()
    const task = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.escort, start: new Date(t.clock.now().getTime() + DAY).toISOString() }) })
    const taskId = ((await task.json()) as { id: string }).id
    const done = await t.put(`/fhir/Task/${taskId}`, {
      as: 'escortNurse',
      body: { ...taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.escort, start: new Date(t.clock.now().getTime() + DAY).toISOString(), status: 'completed', output: { method: 'dossier-released' } }), id: taskId },
    })
    expect(done.status, await text(done)).toBe(200)
    const before = await auditCount(p.patientId)
    const start = t.clock.now()

    t.clock.set(new Date(start.getTime() + 90 * DAY))
    const onTheDay = await runRetentionIfDue(t.deps)
    expect(onTheDay.ran).toBe(true)
    expect((await t.get(`/fhir/Bundle/${p.bundleId}`, { as: 'escortNurse', headers: { 'x-consent-token': p.token } })).status).not.toBe(404)
    const again = await runRetentionIfDue(t.deps)
    expect(again.ran).toBe(false)

    t.clock.set(new Date(start.getTime() + 91 * DAY))
    const [a, b] = await Promise.all([runRetentionIfDue(t.deps), runRetentionIfDue(t.deps)])
    expect([a.ran, b.ran].filter(Boolean)).toHaveLength(1)
    expect(a.erasedPatients + b.erasedPatients).toBeGreaterThanOrEqual(1)
    await expectErased(p, before)
    const run = await t.db.selectFrom('audit_event').selectAll().where('event_type', '=', 'retention.run').orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(run.user_id).toBe('system:overdracht')
    t.clock.set(start)
  })

  it('a patient with an open task is never expired', async () => {
    const p = await patientWithDossier()
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.escort, start: new Date(t.clock.now().getTime() + DAY).toISOString() }) })
    expect(res.status).toBe(201)
    const start = t.clock.now()
    t.clock.set(new Date(start.getTime() + 400 * DAY))
    try {
      await runRetentionIfDue(t.deps)
      const key = await t.db.selectFrom('patient_key').selectAll().where('patient_id', '=', p.patientId).executeTakeFirstOrThrow()
      expect(key.wrapped_key).not.toBeNull()
    } finally {
      t.clock.set(start)
    }
  })
})
