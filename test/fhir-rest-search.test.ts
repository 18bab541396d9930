import type { AuditEvent, Bundle, Consent, OperationOutcome, OperationOutcomeIssue, Task } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { validateFhirResource } from '../src/fhir/validation.js'
import { TASK_BUSINESS_STATUS_SYSTEM, TASK_INPUT_SYSTEM } from '../src/tasks/task-resource.js'
import { consentResource, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA } from './support/people.js'
import { patientWithDossier as scenarioPatientWithDossier } from './support/scenarios.js'
import { createTestApp, type TestApp } from './support/test-app.js'

/*
 * FHIR REST as generic clients use it (http://hl7.org/fhir/R4/http.html, search.html): versions
 * and history per resource, search that pages, counts and refuses what it does not know when told
 * to, and Tasks that survive a read-modify-write, with the notified-pull shape (identifier,
 * businessStatus, input) and conditional update by identifier.
 */

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

const text = (res: Response) => res.clone().text()
const MINUTE = 60_000
/** A link the service handed out, as a path for the in-process app (its origin is the request's). */
const pathOf = (url: string) => {
  const u = new URL(url)
  expect(u.origin).toBe('http://localhost')
  return u.pathname + u.search
}

const patientWithDossier = () => scenarioPatientWithDossier(t)

async function announce(body: Record<string, unknown>, as: 'gzaDoctor' | 'regievoerder' = 'gzaDoctor') {
  const res = await t.post('/fhir/Task', { as, body })
  expect(res.status, await text(res)).toBe(201)
  return (await res.json()) as Task
}

const inDays = (days: number) => new Date(t.clock.now().getTime() + days * 24 * 3600_000).toISOString()

describe('versions and history per resource', () => {
  it('a Task keeps each version: vread of version 1 shows it as announced, _history lists both newest first', async () => {
    const p = await patientWithDossier()
    const task = await announce(taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }))
    t.clock.advance(MINUTE)
    const accepted = await t.put(`/fhir/Task/${task.id}`, { as: 'djiNurse', body: { ...task, status: 'accepted' } })
    expect(accepted.status, await text(accepted)).toBe(200)
    expect(accepted.headers.get('etag')).toBe('W/"2"')

    const v1 = await t.get(`/fhir/Task/${task.id}/_history/1`, { as: 'gzaDoctor' })
    expect(v1.status, await text(v1)).toBe(200)
    expect(((await v1.json()) as Task).status).toBe('requested')
    expect(v1.headers.get('etag')).toBe('W/"1"')
    const history = await t.get(`/fhir/Task/${task.id}/_history`, { as: 'djiNurse' })
    expect(history.status, await text(history)).toBe(200)
    const bundle = (await history.json()) as Bundle<Task>
    expect(bundle.type).toBe('history')
    expect(bundle.entry!.map((e) => [e.resource!.meta!.versionId, e.resource!.status, e.request!.method])).toEqual([
      ['2', 'accepted', 'PUT'],
      ['1', 'requested', 'POST'],
    ])
    expect(bundle.entry![0]!.fullUrl).toBe(`http://localhost/fhir/Task/${task.id}`)
    const missing = await t.get(`/fhir/Task/${task.id}/_history/3`, { as: 'gzaDoctor' })
    expect(missing.status, await text(missing)).toBe(404)
  })

  it("an organisation that is no party to a task gets 404 for its history and each of its versions", async () => {
    const p = await patientWithDossier()
    const task = await announce(taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }))
    for (const path of [`/fhir/Task/${task.id}/_history`, `/fhir/Task/${task.id}/_history/1`]) {
      const res = await t.get(path, { as: 'otherGzaDoctor' })
      expect(res.status, await text(res)).toBe(404)
      expect(await text(res)).not.toContain(p.vNummer)
    }
  })

  it('a withdrawn Consent is version 2; version 1 still reads as it was given, for its custodian only (403 for others, as its read)', async () => {
    const p = await patientWithDossier()
    t.clock.advance(MINUTE)
    const withdrawn = await t.put(`/fhir/Consent/${p.consent.id}`, { as: 'gzaDoctor', body: { ...p.consent, status: 'inactive' } })
    expect(withdrawn.status, await text(withdrawn)).toBe(200)
    const v1 = await t.get(`/fhir/Consent/${p.consent.id}/_history/1`, { as: 'gzaDoctor' })
    expect(v1.status, await text(v1)).toBe(200)
    expect(((await v1.json()) as Consent).status).toBe('active')
    const v2 = await t.get(`/fhir/Consent/${p.consent.id}/_history/2`, { as: 'gzaDoctor' })
    expect(((await v2.json()) as Consent).status).toBe('inactive')
    const history = await t.get(`/fhir/Consent/${p.consent.id}/_history`, { as: 'gzaDoctor' })
    expect(((await history.json()) as Bundle<Consent>).entry!.map((e) => e.resource!.status)).toEqual(['inactive', 'active'])
    for (const path of [`/fhir/Consent/${p.consent.id}/_history/1`, `/fhir/Consent/${p.consent.id}/_history`]) {
      const other = await t.get(path, { as: 'otherGzaDoctor' })
      expect(other.status, await text(other)).toBe(403)
      expect(await text(other)).not.toContain(p.vNummer)
    }
  })

  it('an uploaded Bundle has a history of one version, and the Location of every create resolves', async () => {
    const p = await patientWithDossier()
    const history = await t.get(`/fhir/Bundle/${p.bundleId}/_history`, { as: 'escortNurse', headers: { 'x-consent-token': p.token } })
    expect(history.status, await text(history)).toBe(200)
    expect(((await history.json()) as Bundle).entry!.map((e) => e.resource!.id)).toEqual([p.bundleId])
    const task = await t.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(2) }) })
    const location = task.headers.get('location')!
    const read = await t.get(pathOf(location), { as: 'gzaDoctor' })
    expect(read.status, await text(read)).toBe(200)
  })
})

describe('search that pages, counts and says what it ignores', () => {
  it('_count pages an inbox with next links that resolve; every task once, in order, even when one is announced while paging', async () => {
    const p = await patientWithDossier()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push((await announce(taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(10 + i) }), 'regievoerder')).id!)
    }
    const seen: string[] = []
    let next: string | undefined = `/fhir/Task?owner=${URA.escort}&code=departure&status=requested&_count=2`
    let pages = 0
    while (next) {
      const res = await t.get(next, { as: 'escortNurse' })
      const body = await text(res)
      expect(res.status, body).toBe(200)
      const bundle = JSON.parse(body) as Bundle<Task>
      expect(bundle.total, body).toBeGreaterThanOrEqual(5)
      expect(bundle.link!.find((l) => l.relation === 'self')).toBeDefined()
      for (const e of bundle.entry ?? []) {
        expect(e.fullUrl).toBe(`http://localhost/fhir/Task/${e.resource!.id}`)
        seen.push(e.resource!.id!)
      }
      if (pages === 0) {
        // Announced with an earlier date while the client pages: it must not shift what follows.
        await announce(taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.escort, start: inDays(1) }), 'regievoerder')
      }
      const link = bundle.link!.find((l) => l.relation === 'next')?.url
      next = link ? pathOf(link) : undefined
      pages++
      expect(pages).toBeLessThan(50)
    }
    expect(new Set(seen).size, JSON.stringify(seen)).toBe(seen.length)
    const mine = seen.filter((id) => ids.includes(id))
    expect(mine).toEqual(ids)
  })

  it('_summary=count answers the total and no entries', async () => {
    const res = await t.get(`/fhir/Task?owner=${URA.escort}&_summary=count`, { as: 'escortNurse' })
    const body = await text(res)
    expect(res.status, body).toBe(200)
    const bundle = JSON.parse(body) as Bundle
    expect(bundle.total, body).toBeGreaterThan(0)
    expect(bundle.entry).toBeUndefined()
  })

  it('comma-separated identifiers match either patient', async () => {
    const a = await patientWithDossier()
    const b = await patientWithDossier()
    const q = [a.vNummer, b.vNummer].map((v) => `${SYSTEM.vNummer}|${v}`).join(',')
    const res = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(q)}`, { as: 'gzaDoctor' })
    const body = await text(res)
    expect(res.status, body).toBe(200)
    expect((JSON.parse(body) as Bundle).entry!.map((e) => e.resource!.id).sort()).toEqual([a.patientId, b.patientId].sort())
  })

  it('an unknown parameter is ignored and said so in an outcome entry; under Prefer: handling=strict it is refused with 400', async () => {
    const lenient = await t.get(`/fhir/Task?owner=${URA.escort}&_sort=-date&_count=1`, { as: 'escortNurse' })
    const body = await text(lenient)
    expect(lenient.status, body).toBe(200)
    const outcome = (JSON.parse(body) as Bundle).entry!.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome
    expect(outcome.issue[0]!.severity, body).toBe('warning')
    expect(outcome.issue[0]!.diagnostics).toContain('_sort')
    const strict = await t.get(`/fhir/Task?owner=${URA.escort}&_sort=-date`, { as: 'escortNurse', headers: { prefer: 'handling=strict' } })
    expect(strict.status, await text(strict)).toBe(400)
    expect(((await strict.json()) as OperationOutcome).issue[0]!.diagnostics).toContain('_sort')
  })

  it('a _count that is not a number, and a _page the service did not hand out, get 400 and never 500', async () => {
    const page = (position: unknown) => `_page=${Buffer.from(JSON.stringify(position)).toString('base64url')}`
    const forged = [
      '_count=ten',
      '_page=not-a-position',
      page({ s: 1 }),
      page({ s: 'garbage', c: 'x', i: 'y' }),
      page({ s: '2026-01-01 00:00:00+00', c: '2026-01-01 00:00:00+00', i: 'a\u0000b' }),
      page({ s: '2026-02-31 00:00:00+00', c: '2026-01-01 00:00:00+00', i: crypto.randomUUID() }),
      page({ s: "2026-01-01 00:00:00+00'; drop table task; --", c: '2026-01-01 00:00:00+00', i: crypto.randomUUID() }),
    ]
    for (const q of forged) {
      const res = await t.get(`/fhir/Task?owner=${URA.escort}&${q}`, { as: 'escortNurse' })
      expect(res.status, `${q}: ${await text(res)}`).toBe(400)
    }
    const p = await patientWithDossier()
    for (const q of [page({ t: '2026-13-45 99:99:99+00', i: '1' }), page({ t: '2026-01-01 00:00:00+00', i: '9999999999999999999' })]) {
      const res = await t.get(`/fhir/AuditEvent?patient=${p.patientId}&${q}`, { as: 'privacyOfficer' })
      expect(res.status, `${q}: ${await text(res)}`).toBe(400)
    }
  })

  it("the audit log pages by _count in its own order: every entry once, as many as the total", async () => {
    const p = await patientWithDossier()
    for (let i = 0; i < 3; i++) {
      t.clock.advance(MINUTE)
      await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${p.vNummer}`)}`, { as: 'gzaDoctor' })
    }
    let next: string | undefined = `/fhir/AuditEvent?patient=${p.patientId}&_count=2`
    const seen: string[] = []
    let total = -1
    while (next) {
      const res = await t.get(next, { as: 'privacyOfficer' })
      const body = await text(res)
      expect(res.status, body).toBe(200)
      const bundle = JSON.parse(body) as Bundle<AuditEvent>
      if (total < 0) total = bundle.total!
      seen.push(...(bundle.entry ?? []).map((e) => e.resource!.id!))
      const link = bundle.link!.find((l) => l.relation === 'next')?.url
      next = link ? pathOf(link) : undefined
    }
    expect(total).toBeGreaterThanOrEqual(5)
    expect(new Set(seen).size).toBe(seen.length)
    // The reads of the log itself are logged too, after the total was counted.
    expect(seen.length).toBeGreaterThanOrEqual(total)
  })
})

describe('Tasks round-trip and the notified-pull shape', () => {
  it('a Task read from a search, with the extensions the service adds, can be put back unchanged', async () => {
    const p = await patientWithDossier()
    await announce(taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }))
    const search = await t.get(`/fhir/Task?requester=${URA.gza}&_count=500`, { as: 'gzaDoctor' })
    const listed = ((await search.json()) as Bundle<Task>).entry!.map((e) => e.resource!).find((task) => task.for?.identifier?.value === p.vNummer)!
    expect(listed.extension?.length).toBeGreaterThan(0)
    const back = await t.put(`/fhir/Task/${listed.id}`, { as: 'gzaDoctor', body: listed })
    expect(back.status, await text(back)).toBe(200)
  })

  it('an extension the service did not add is still refused', async () => {
    const p = await patientWithDossier()
    const res = await t.post('/fhir/Task', {
      as: 'gzaDoctor',
      body: { ...taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }), extension: [{ url: 'https://example.org/diagnosis', valueString: 'HIV' }] },
    })
    expect(res.status, await text(res)).toBe(422)
    expect(await text(res)).not.toContain('HIV')
  })

  it('identifier, businessStatus and inputs referring to this patient are kept; conditional update by identifier creates, then updates', async () => {
    const p = await patientWithDossier()
    const identifier = { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` }
    const q = `/fhir/Task?identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}`
    const body = {
      ...taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }),
      identifier: [identifier],
      businessStatus: { coding: [{ system: TASK_BUSINESS_STATUS_SYSTEM, code: 'dossier-available' }] },
      input: [
        { type: { coding: [{ system: TASK_INPUT_SYSTEM, code: 'dossier' }] }, valueReference: { reference: `Bundle/${p.bundleId}` } },
        { type: { coding: [{ system: TASK_INPUT_SYSTEM, code: 'patient' }] }, valueReference: { reference: `Patient/${p.patientId}` } },
      ],
    }
    const created = await t.put(q, { as: 'gzaDoctor', body })
    expect(created.status, await text(created)).toBe(201)
    const task = (await created.json()) as Task
    expect(task.identifier).toEqual([identifier])
    expect(task.input?.map((i) => i.valueReference?.reference)).toEqual([`Bundle/${p.bundleId}`, `Patient/${p.patientId}`])
    expect(task.businessStatus?.coding?.[0]?.code).toBe('dossier-available')

    // The requester changes it by identifier; the receiver finds it by identifier and accepts it by id.
    const moved = await t.put(q, { as: 'gzaDoctor', body: { ...body, executionPeriod: { start: inDays(4) } } })
    expect(moved.status, await text(moved)).toBe(200)
    expect(((await moved.json()) as Task).id).toBe(task.id)
    expect(moved.headers.get('etag')).toBe('W/"2"')
    const found = await t.get(`/fhir/Task?owner=${URA.dji}&${q.slice(q.indexOf('?') + 1)}`, { as: 'djiNurse' })
    const listed = ((await found.json()) as Bundle<Task>).entry!.map((e) => e.resource!)
    expect(listed.map((r) => r.id)).toEqual([task.id])
    const accepted = await t.put(`/fhir/Task/${task.id}`, {
      as: 'djiNurse',
      body: { ...listed[0]!, status: 'accepted', businessStatus: { coding: [{ system: TASK_BUSINESS_STATUS_SYSTEM, code: 'received' }] } },
    })
    expect(accepted.status, await text(accepted)).toBe(200)
    expect(accepted.headers.get('etag')).toBe('W/"3"')

    // The same identifier again in a plain create by the same requester: a duplicate.
    const duplicate = await t.post('/fhir/Task', { as: 'gzaDoctor', body })
    expect(duplicate.status, await text(duplicate)).toBe(409)
  })

  it("another organisation's conditional update with the same identifier does not reach the task", async () => {
    const p = await patientWithDossier()
    const identifier = { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` }
    const q = `/fhir/Task?identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}`
    const body = { ...taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }), identifier: [identifier] }
    const created = await t.put(q, { as: 'gzaDoctor', body })
    expect(created.status, await text(created)).toBe(201)
    const id = ((await created.json()) as Task).id
    // An unrelated GZA tries to cancel it by identifier: for it there is no such task, and it may not announce one for this patient.
    const hostile = await t.put(q, {
      as: 'otherGzaDoctor',
      body: { ...taskResource({ vNummer: p.vNummer, code: 'transfer', status: 'cancelled', requester: URA.otherGza, owner: URA.dji, start: inDays(3) }), identifier: [identifier] },
    })
    expect([403, 404, 422], await text(hostile)).toContain(hostile.status)
    const read = await t.get(`/fhir/Task/${id}`, { as: 'gzaDoctor' })
    expect(((await read.json()) as Task).status).toBe('requested')
    expect(read.headers.get('etag')).toBe('W/"1"')
  })

  it("a stranger's task with the same identifier, naming the same owner, stands in nobody's way", async () => {
    const p = await patientWithDossier()
    const identifier = { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` }
    const q = `/fhir/Task?identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}`
    // An unrelated GZA makes itself custodian of a made-up patient and copies the identifier first.
    const decoy = newVNummer()
    const consent = await t.post('/fhir/Consent', { as: 'otherGzaDoctor', body: consentResource({ vNummer: decoy, organization: URA.otherGza }) })
    expect(consent.status, await text(consent)).toBe(201)
    const squat = await t.put(q, {
      as: 'otherGzaDoctor',
      body: { ...taskResource({ vNummer: decoy, code: 'transfer', requester: URA.otherGza, owner: URA.dji, start: inDays(3) }), identifier: [identifier] },
    })
    expect(squat.status, await text(squat)).toBe(201)
    // The real sender creates and then changes its task by the same identifier, untroubled.
    const body = { ...taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }), identifier: [identifier] }
    const created = await t.put(q, { as: 'gzaDoctor', body })
    expect(created.status, await text(created)).toBe(201)
    const again = await t.put(q, { as: 'gzaDoctor', body: { ...body, executionPeriod: { start: inDays(5) } } })
    expect(again.status, await text(again)).toBe(200)
    expect(((await again.json()) as Task).id).toBe(((await created.json()) as Task).id)
  })

  it.each([
    ['a recipient URA of words', { restriction: { recipient: [{ identifier: { system: SYSTEM.ura, value: 'Patient heeft diabetes; BSN 999999990' } }] } }],
    ['an owner URA that is not eight digits', { owner: { identifier: { system: SYSTEM.ura, value: '9000000X' } } }],
    ['an identifier system of words', { identifier: [{ system: 'https://x.example/diagnose/Diabetes-mellitus/Metformine', value: 'urn:uuid:8e2b2a6c-1b7f-4d7e-9a51-3c1f0a1d2e4b' }] }],
    ['a BSN as identifier', { identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.4.6.3', value: '999999990' }] }],
    ['a BSN system with a trailing slash', { identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn/', value: '999999990' }] }],
    ['a V-nummer of words', { for: { identifier: { system: SYSTEM.vNummer, value: 'V123 heeft HIV' } } }],
  ])('a Task with %s is refused, so no word or personal number reaches the parties', async (_what, extra) => {
    const p = await patientWithDossier()
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: { ...taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.dvo, start: inDays(3) }), ...extra } })
    const body = await text(res)
    expect(res.status, body).toBe(422)
    expect(body).not.toMatch(/diabetes|Metformine|999999990|HIV/i)
  })

  it('to a caller the rules refuse, a task for an unknown patient id and one for a patient of others get the same answer', async () => {
    const p = await patientWithDossier()
    const spec = (reference: string) => ({ ...taskResource({ vNummer: 'unused', code: 'case', requester: '90000014', owner: URA.dvo }), for: { reference } })
    const known = await t.post('/fhir/Task', { as: 'regievoerder', headers: {}, token: await t.tokenFor('regievoerder', { org: '90000014', sub: 'dtv-x' }), body: spec(`Patient/${p.patientId}`) })
    const unknown = await t.post('/fhir/Task', { as: 'regievoerder', token: await t.tokenFor('regievoerder', { org: '90000014', sub: 'dtv-x' }), body: spec(`Patient/${crypto.randomUUID()}`) })
    expect(known.status, await text(known)).toBe(403)
    expect(unknown.status, await text(unknown)).toBe(known.status)
  })

  it("an input naming another patient's dossier, or a Task identifier by V-nummer, is refused", async () => {
    const p = await patientWithDossier()
    const other = await patientWithDossier()
    const base = taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) })
    const foreign = await t.post('/fhir/Task', {
      as: 'gzaDoctor',
      body: { ...base, input: [{ type: { coding: [{ system: TASK_INPUT_SYSTEM, code: 'dossier' }] }, valueReference: { reference: `Bundle/${other.bundleId}` } }] },
    })
    expect(foreign.status, await text(foreign)).toBe(422)
    const person = await t.post('/fhir/Task', { as: 'gzaDoctor', body: { ...base, identifier: [{ system: SYSTEM.vNummer, value: p.vNummer }] } })
    expect(person.status, await text(person)).toBe(422)
    const freeCode = await t.post('/fhir/Task', { as: 'gzaDoctor', body: { ...base, businessStatus: { coding: [{ system: 'https://example.org/status', code: 'psychosis' }] } } })
    expect(freeCode.status, await text(freeCode)).toBe(422)
    expect(await text(freeCode)).not.toContain('psychosis')
  })
})

describe('every kind of answer here is valid R4', () => {
  const errorsOf = (issues: OperationOutcomeIssue[]) => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')

  it('a searchset page with links and an outcome entry, a _summary=count answer, and the history of a Task and a Consent validate', async () => {
    const p = await patientWithDossier()
    const task = await announce(taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }))
    const answers = [
      await t.get(`/fhir/Task?requester=${URA.gza}&_count=1&_elements=id`, { as: 'gzaDoctor' }),
      await t.get(`/fhir/Task?requester=${URA.gza}&_summary=count`, { as: 'gzaDoctor' }),
      await t.get(`/fhir/Task/${task.id}/_history`, { as: 'gzaDoctor' }),
      await t.get(`/fhir/Consent/${p.consent.id}/_history`, { as: 'gzaDoctor' }),
      await t.get(`/fhir/Consent?patient=${p.patientId}`, { as: 'gzaDoctor' }),
      await t.get(`/fhir/AuditEvent?patient=${p.patientId}&_count=1`, { as: 'privacyOfficer' }),
      await t.get(`/fhir/Task?owner=${URA.gza}&_count=x`, { as: 'gzaDoctor' }),
    ]
    for (const res of answers) {
      const body = await text(res)
      expect(errorsOf(validateFhirResource(JSON.parse(body))), body).toEqual([])
    }
  })
})

describe("a custodian reads back its own upload by the Location it was given", () => {
  it('the uploading organisation reads its Bundle by id without a token while custodian (audited as its own record); the current dossier still needs one', async () => {
    const p = await patientWithDossier()
    const own = await t.get(`/fhir/Bundle/${p.bundleId}`, { as: 'gzaDoctor' })
    expect(own.status, await text(own)).toBe(200)
    const vread = await t.get(`/fhir/Bundle/${p.bundleId}/_history/1`, { as: 'gzaDoctor' })
    expect(vread.status, await text(vread)).toBe(200)
    const entry = await t.db.selectFrom('audit_event').select(['reason', 'outcome', 'break_glass'])
      .where('resource_id', '=', p.bundleId).where('org_id', '=', URA.gza).where('event_type', '=', 'dossier.read').executeTakeFirstOrThrow()
    expect(entry).toEqual({ reason: 'permit-own-record', outcome: 'permit', break_glass: false })
    const current = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'gzaDoctor' })
    expect(current.status, await text(current)).toBe(403)
  })

  it("another organisation's caregiver, even a receiving custodian, does not read the sender's upload as its own; nor does the sender once custody has passed", async () => {
    const p = await patientWithDossier()
    const unrelated = await t.get(`/fhir/Bundle/${p.bundleId}`, { as: 'otherGzaDoctor' })
    expect(unrelated.status, await text(unrelated)).toBe(403)

    const transfer = await announce(taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(1) }))
    const accepted = await t.put(`/fhir/Task/${transfer.id}`, { as: 'djiNurse', body: { ...transfer, status: 'accepted' } })
    expect(accepted.status, await text(accepted)).toBe(200)
    const receiver = await t.get(`/fhir/Bundle/${p.bundleId}`, { as: 'djiNurse' })
    expect(receiver.status, await text(receiver)).toBe(403)

    const completed = await t.put(`/fhir/Task/${transfer.id}`, {
      as: 'djiNurse',
      body: { ...transfer, status: 'completed', output: [{ type: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-output', code: 'handover-method' }] }, valueCode: 'dossier-released' }] },
    })
    expect(completed.status, await text(completed)).toBe(200)
    t.clock.advance(MINUTE)
    const sender = await t.get(`/fhir/Bundle/${p.bundleId}`, { as: 'gzaDoctor' })
    expect(sender.status, await text(sender)).toBe(403)
  })
})

describe('every URL the service hands out resolves', () => {
  it('the fullUrl of each Patient, Consent, Task and AuditEvent entry of a search reads, for the caller that searched', async () => {
    const p = await patientWithDossier()
    await announce(taskResource({ vNummer: p.vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: inDays(3) }))
    const searches: [string, 'gzaDoctor' | 'privacyOfficer'][] = [
      [`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${p.vNummer}`)}`, 'gzaDoctor'],
      [`/fhir/Consent?patient=${p.patientId}`, 'gzaDoctor'],
      [`/fhir/Task?requester=${URA.gza}&_count=3`, 'gzaDoctor'],
      [`/fhir/AuditEvent?patient=${p.patientId}&_count=3`, 'privacyOfficer'],
    ]
    for (const [search, as] of searches) {
      const res = await t.get(search, { as })
      const bundle = (await res.json()) as Bundle
      expect(bundle.entry?.length, search).toBeGreaterThan(0)
      for (const entry of bundle.entry!.filter((e) => e.search?.mode === 'match')) {
        const read = await t.get(pathOf(entry.fullUrl!), { as })
        expect(read.status, `${entry.fullUrl}: ${await text(read)}`).toBe(200)
        expect(((await read.json()) as { id: string }).id).toBe(entry.resource!.id)
      }
    }
  })

  it("an audit entry about a patient the caller's organisation never held answers 404, as an id that does not exist", async () => {
    const p = await patientWithDossier()
    const entry = await t.db.selectFrom('audit_event').select('id').where('patient_id', '=', p.patientId).orderBy('id').executeTakeFirstOrThrow()
    const own = await t.get(`/fhir/AuditEvent/${entry.id}`, { as: 'privacyOfficer' })
    expect(own.status, await text(own)).toBe(200)
    const other = await t.get(`/fhir/AuditEvent/${entry.id}`, { as: 'djiPrivacyOfficer' })
    const none = await t.get('/fhir/AuditEvent/999999999999', { as: 'djiPrivacyOfficer' })
    expect(other.status, await text(other)).toBe(404)
    expect(none.status, await text(none)).toBe(404)
    expect(await text(other)).not.toContain(p.vNummer)
  })

  it('a Patient read by id answers 404 to an unrelated caregiver, as for an id that does not exist, and both refusals are audited', async () => {
    const p = await patientWithDossier()
    const unrelated = await t.get(`/fhir/Patient/${p.patientId}`, { as: 'otherGzaDoctor' })
    const unknown = await t.get(`/fhir/Patient/${crypto.randomUUID()}`, { as: 'otherGzaDoctor' })
    expect(unrelated.status, await text(unrelated)).toBe(404)
    expect(unknown.status, await text(unknown)).toBe(404)
    expect(await text(unrelated)).not.toContain(p.vNummer)
    const denies = await t.db.selectFrom('audit_event').select('reason').where('event_type', '=', 'patient.read').where('org_id', '=', URA.otherGza).execute()
    expect(denies.map((d) => d.reason).sort()).toEqual(['deny-no-relationship', 'deny-patient-unknown'])
  })
})
