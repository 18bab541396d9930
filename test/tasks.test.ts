import type { Bundle, Task } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consentResource, handoverBundle, newVNummer, taskResource, type TaskSpec } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { exampleHandoverBundle, exampleMedicalPostponementObservation } from '../src/perspective/examples.js'
import { createTestApp, type TestApp } from './support/test-app.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

const DAY = 24 * 3600_000
const inDays = (d: number) => new Date(t.clock.now().getTime() + d * DAY).toISOString()
const text = (res: Response) => res.clone().text()

async function create(as: CallerName, spec: TaskSpec): Promise<Task> {
  const res = await t.post('/fhir/Task', { as, body: taskResource(spec) })
  expect(res.status, await text(res)).toBe(201)
  expect(res.headers.get('location')).toMatch(/^http:\/\/localhost\/fhir\/Task\/[0-9a-f-]{36}\/_history\/1$/)
  return (await res.json()) as Task
}

/** A patient the GZA is custodian of: it recorded the first consent. */
async function custodianPatient(): Promise<string> {
  const vNummer = newVNummer()
  const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(res.status, await text(res)).toBe(201)
  return vNummer
}

const put = (as: CallerName, task: Task, changes: Partial<TaskSpec>, vNummer: string) =>
  t.put(`/fhir/Task/${task.id}`, {
    as,
    body: {
      ...taskResource({
        vNummer,
        code: task.code!.coding![0]!.code as TaskSpec['code'],
        requester: task.requester!.identifier!.value!,
        owner: task.owner!.identifier!.value!,
        ...(task.executionPeriod?.start ? { start: task.executionPeriod.start } : {}),
        ...changes,
      }),
      id: task.id,
    },
  })

describe('announcing tasks', () => {
  it('a regievoerder announces a departure owned by the escort organisation; it is in the owner inbox', async () => {
    const vNummer = newVNummer()
    const task = await create('regievoerder', { vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(5) })
    expect(task).toMatchObject({ status: 'requested', meta: { versionId: '1' } })
    const inbox = await t.get(`/fhir/Task?owner=${URA.escort}&status=requested`, { as: 'escortNurse' })
    expect(inbox.status, await text(inbox)).toBe(200)
    const bundle = (await inbox.json()) as Bundle<Task>
    expect(bundle.entry!.map((e) => e.resource!.id)).toContain(task.id)
  })

  it('a GZA doctor announces a transfer to DJI of a patient the GZA is custodian of', async () => {
    const vNummer = await custodianPatient()
    const task = await create('gzaDoctor', { vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(2) })
    expect(task.code?.coding?.[0]?.code).toBe('transfer')
  })

  it('a regievoerder may not announce a transfer (that is for caregivers)', async () => {
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: newVNummer(), code: 'transfer', requester: URA.dtv, owner: URA.dji }) })
    expect(res.status, await text(res)).toBe(403)
  })

  it('a transport escort may not announce tasks', async () => {
    const res = await t.post('/fhir/Task', { as: 'dvoEscort', body: taskResource({ vNummer: newVNummer(), requester: URA.dvo, owner: URA.escort, start: inDays(1) }) })
    expect(res.status, await text(res)).toBe(403)
  })

  it.each([
    ['a note', { note: [{ text: 'patient has diabetes' }] }, 'Task.note'],
    ['a description', { description: 'HIV medication along' }, 'Task.description'],
    ['a reason code', { reasonCode: { text: 'psychosis' } }, 'Task.reasonCode'],
    ['an input of free text', { input: [{ type: { text: 'x' }, valueString: 'y' }] }, 'Task.input[0].type.text'],
    ['an input of a string value', { input: [{ type: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-input', code: 'dossier' }] }, valueString: 'HIV' }] }, 'Task.input[0].valueString'],
    ['display text on the code', { code: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-code', code: 'departure', display: 'Vertrek wegens ziekte' }] } }, 'Task.code.coding[0].display'],
    ['narrative', { text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">ziek</div>' } }, 'Task.text'],
  ])('a task with %s is refused: tasks carry no medical data', async (_what, extra, path) => {
    const before = await t.db.selectFrom('task').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: { ...taskResource({ vNummer: newVNummer(), requester: URA.dtv, owner: URA.escort, start: inDays(3) }), ...extra } })
    const body = await text(res)
    expect(res.status, body).toBe(422)
    expect(JSON.parse(body).issue[0].expression[0], body).toBe(path)
    expect(body).not.toMatch(/diabetes|HIV|psychosis|ziek/)
    const after = await t.db.selectFrom('task').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
    expect(Number(after.n)).toBe(Number(before.n))
  })

  it('a departure without a planned date is refused', async () => {
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: newVNummer(), requester: URA.dtv, owner: URA.escort }) })
    expect(res.status, await text(res)).toBe(422)
  })

  it('the requester must be the caller organisation', async () => {
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: newVNummer(), requester: URA.gza, owner: URA.escort, start: inDays(3) }) })
    expect(res.status, await text(res)).toBe(422)
  })

  it('another organisation cannot list someone else inbox', async () => {
    const res = await t.get(`/fhir/Task?owner=${URA.escort}`, { as: 'coaCaseManager' })
    expect(res.status, await text(res)).toBe(403)
  })
})

describe('absolute locations', () => {
  it('a created Task is located on the configured public base URL', async () => {
    const other = await createTestApp({ settings: { publicBaseUrl: 'https://overdracht.example', departureAuthorities: [URA.dtv] } })
    try {
      const res = await other.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: newVNummer(), requester: URA.dtv, owner: URA.escort, start: inDays(2) }) })
      expect(res.status, await text(res)).toBe(201)
      expect(res.headers.get('location')).toMatch(/^https:\/\/overdracht\.example\/fhir\/Task\/[0-9a-f-]{36}\/_history\/1$/)
    } finally {
      await other.close()
    }
  })
})

describe('status transitions', () => {
  it('requested → accepted → in-progress → completed with dossier-released, by the owner', async () => {
    const vNummer = newVNummer()
    expect((await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })).status).toBe(201)
    expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })).status).toBe(201)
    const task = await create('gzaDoctor', { vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(1) })
    for (const status of ['accepted', 'in-progress']) {
      const res = await put('djiNurse', task, { status }, vNummer)
      expect(res.status, await text(res)).toBe(200)
    }
    const done = await put('djiNurse', task, { status: 'completed', output: { method: 'dossier-released' } }, vNummer)
    expect(done.status, await text(done)).toBe(200)
    expect(done.headers.get('etag')).toBe('W/"4"')
    const body = (await done.json()) as Task
    expect(body.output?.[0]?.valueCode).toBe('dossier-released')
  })

  it('completion by phone handover records both caregivers BIG numbers', async () => {
    const vNummer = newVNummer()
    const task = await create('regievoerder', { vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(1) })
    const missing = await put('escortNurse', task, { status: 'completed', output: { method: 'phone-handover', bigs: ['91000000101'] } }, vNummer)
    expect(missing.status, await text(missing)).toBe(422)
    const ok = await put('escortNurse', task, { status: 'completed', output: { method: 'phone-handover', bigs: ['91000000101', '01000000330'] } }, vNummer)
    expect(ok.status, await text(ok)).toBe(200)
    const body = (await ok.json()) as Task
    expect(body.output?.filter((o) => o.valueIdentifier).map((o) => o.valueIdentifier!.value)).toEqual(['91000000101', '01000000330'])
  })

  it('dossier-released is refused when there is no dossier to release', async () => {
    const vNummer = newVNummer()
    const task = await create('regievoerder', { vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(1) })
    const res = await put('escortNurse', task, { status: 'completed', output: { method: 'dossier-released' } }, vNummer)
    expect(res.status, await text(res)).toBe(422)
  })

  it('completion without saying how the handover went is refused', async () => {
    const vNummer = newVNummer()
    const task = await create('regievoerder', { vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(1) })
    const res = await put('escortNurse', task, { status: 'completed' }, vNummer)
    expect(res.status, await text(res)).toBe(422)
  })

  it.each([
    ['completed', 'accepted'],
    ['cancelled', 'in-progress'],
    ['rejected', 'accepted'],
  ])('a %s task cannot move to %s', async (terminal, next) => {
    const vNummer = newVNummer()
    const task = await create('regievoerder', { vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(1) })
    const by: CallerName = terminal === 'cancelled' ? 'regievoerder' : 'escortNurse'
    const first = await put(by, task, { status: terminal, ...(terminal === 'completed' ? { output: { method: 'handed-to-patient' } } : {}) }, vNummer)
    expect(first.status, await text(first)).toBe(200)
    const res = await put('escortNurse', task, { status: next }, vNummer)
    expect(res.status, await text(res)).toBe(409)
  })

  it('only the owner accepts, only the requester cancels', async () => {
    const vNummer = newVNummer()
    const task = await create('regievoerder', { vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(1) })
    expect((await put('regievoerder', task, { status: 'accepted' }, vNummer)).status).toBe(403)
    expect((await put('escortNurse', task, { status: 'cancelled' }, vNummer)).status).toBe(403)
    expect((await put('regievoerder', task, { status: 'cancelled' }, vNummer)).status).toBe(200)
  })

  it('an organisation that is not a party gets 404 for the task', async () => {
    const task = await create('regievoerder', { vNummer: newVNummer(), requester: URA.dtv, owner: URA.escort, start: inDays(1) })
    const res = await t.get(`/fhir/Task/${task.id}`, { as: 'coaCaseManager' })
    expect(res.status, await text(res)).toBe(404)
  })

  it('the owner, patient and code of a task cannot be changed', async () => {
    const vNummer = newVNummer()
    const task = await create('regievoerder', { vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(1) })
    expect((await put('regievoerder', task, { owner: URA.kmar }, vNummer)).status).toBe(422)
    expect((await put('regievoerder', task, {}, newVNummer())).status).toBe(422)
  })
})

describe('read receipts', () => {
  it('the requester sees when the receiving caregivers first opened the dossier; unopened tasks due within 24 hours are at risk', async () => {
    const vNummer = newVNummer()
    const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
    const token = consent.headers.get('x-consent-token')!
    expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })).status).toBe(201)
    const soon = await create('gzaDoctor', { vNummer, code: 'transfer', requester: URA.gza, owner: URA.escort, start: inDays(0.5) })
    const later = await create('gzaDoctor', { vNummer: await custodianPatient(), code: 'transfer', requester: URA.gza, owner: URA.escort, start: inDays(3) })

    const atRisk = (await (await t.get(`/fhir/Task?requester=${URA.gza}&at-risk=true`, { as: 'gzaDoctor' })).json()) as Bundle<Task>
    const ids = atRisk.entry!.map((e) => e.resource!.id)
    expect(ids).toContain(soon.id)
    expect(ids).not.toContain(later.id)

    t.clock.advance(60_000)
    const patient = (await (await t.get(`/fhir/Task/${soon.id}`, { as: 'gzaDoctor' })).json()) as Task
    const patientId = patient.for!.reference!.split('/')[1]
    const read = await t.get(`/fhir/Patient/${patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': token } })
    expect(read.status, await text(read)).toBe(200)

    const after = (await (await t.get(`/fhir/Task/${soon.id}`, { as: 'gzaDoctor' })).json()) as Task
    const receipt = after.extension?.find((e) => e.url.endsWith('dossier-opened'))
    expect(receipt?.valueDateTime).toBe(t.clock.now().toISOString())
    const stillAtRisk = (await (await t.get(`/fhir/Task?requester=${URA.gza}&at-risk=true`, { as: 'gzaDoctor' })).json()) as Bundle<Task>
    expect(stillAtRisk.entry?.map((e) => e.resource!.id) ?? []).not.toContain(soon.id)
  })

  it('no task response ever carries the dossier', async () => {
    const vNummer = newVNummer()
    await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
    await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
    const task = await create('regievoerder', { vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(1) })
    for (const as of ['regievoerder', 'escortNurse'] as const) {
      const res = await t.get(`/fhir/Task/${task.id}`, { as })
      const body = await text(res)
      expect(res.status, body).toBe(200)
      expect(body).not.toContain('Testpersoon')
      expect(body).not.toContain('"entry"')
    }
  })
})

describe('art. 64 Vw: no departure while a medical postponement is granted', () => {
  async function patientWithPostponement(until?: string) {
    const vNummer = newVNummer()
    expect((await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })).status).toBe(201)
    const bundle = exampleHandoverBundle(vNummer, [
      exampleMedicalPostponementObservation('granted', t.clock.now().toISOString(), until ? { until } : {}),
    ])
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(upload.status, await text(upload)).toBe(201)
    return vNummer
  }

  it('a departure planned inside a granted postponement is refused, naming the procedure and not the reason', async () => {
    const vNummer = await patientWithPostponement('2027-03-01')
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, start: inDays(10) }) })
    const body = await text(res)
    expect(res.status, body).toBe(409)
    expect(body).toContain('art. 64 Vw')
  })

  it('a departure planned after the postponement ends can be announced', async () => {
    const vNummer = await patientWithPostponement('2026-12-01')
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, start: '2026-12-15T08:00:00Z' }) })
    expect(res.status, await text(res)).toBe(201)
  })

  it('a postponement granted without an end blocks every departure', async () => {
    const vNummer = await patientWithPostponement()
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, start: '2030-01-01T08:00:00Z' }) })
    expect(res.status, await text(res)).toBe(409)
  })
})
