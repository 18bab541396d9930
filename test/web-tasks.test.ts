import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Task } from '@medplum/fhirtypes'
import { DEV_CAREGIVERS } from '../src/big/file-register.js'
import { phoneHandoverTask } from '../src/web/task-page.js'
import { newVNummer } from './support/fhir-builders.js'
import { CookieJar, startWebApp, text, type WebTestApp } from './support/web-app.js'

/**
 * The patient refused: the GZA doctor announces a transfer to the DJI, sees it among the handovers
 * at risk, and the DJI nurse records the phone handover on the task's page (changeTask decides).
 */

let w: WebTestApp
let doctor: CookieJar
let nurse: CookieJar
let home = ''
let taskId = ''
const vNummer = newVNummer()

/** The section of a page with the given aria-label, up to its end. */
const section = (html: string, label: string) => {
  const start = html.indexOf(`<section aria-label="${label}"`)
  return start < 0 ? '' : html.slice(start, html.indexOf('</section>', start))
}

/** The GZA doctor records on the page that the patient refused. */
async function recordRefusal(v: string) {
  const form = new FormData()
  for (const [k, value] of Object.entries({ _csrf: doctor.csrfOf(home), vnummer: v, decision: 'refused', version: '2026-01', language: 'nl' })) form.append(k, value)
  const refusal = await doctor.fetch('/app/consent', { method: 'POST', body: form })
  expect(refusal.status, await text(refusal)).toBe(200)
}

beforeAll(async () => {
  w = await startWebApp()
  doctor = new CookieJar(w.baseUrl)
  home = await text(await doctor.signIn('dev-gza-arts'))
  nurse = new CookieJar(w.baseUrl)
  await nurse.signIn('dev-dji-verpleegkundige')
  await recordRefusal(vNummer)
  // Planned for tomorrow (the test clock stands at 24 November, 09:00 UTC): within the 24 hours.
  const announced = await doctor.postForm('/app/transfers', { _csrf: doctor.csrfOf(home), vnummer: vNummer, owner: '90000002', date: '2026-11-25' })
  home = await text(announced)
  expect(announced.status, home).toBe(200)
})
afterAll(async () => w?.close())

describe('handovers at risk on the caregiver’s home page', () => {
  it('lists the transfer due tomorrow whose dossier the DJI has not opened, linked to its task page', () => {
    const atRisk = section(home, 'Overdrachten in gevaar')
    expect(atRisk, home).toContain(vNummer)
    expect(atRisk).toContain('Let op: dossier nog niet geopend')
    taskId = /href="\/app\/tasks\/([0-9a-f-]{36})"/.exec(atRisk)?.[1] ?? ''
    expect(taskId, atRisk).not.toBe('')
  })

  it('a transfer planned next month is in the outbox but not at risk', async () => {
    const later = newVNummer()
    await recordRefusal(later)
    const res = await doctor.postForm('/app/transfers', { _csrf: doctor.csrfOf(home), vnummer: later, owner: '90000002', date: '2026-12-28' })
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(section(html, 'Door uw organisatie aangevraagd')).toContain(later)
    expect(section(html, 'Overdrachten in gevaar')).not.toContain(later)
  })
})

describe('a phone handover on the task page', () => {
  it('the DJI nurse (the receiving organisation) sees the form with her own BIG number filled in', async () => {
    const res = await nurse.fetch(`/app/tasks/${taskId}`)
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('Telefonische overdracht vastleggen')
    expect(html).toContain(`value="${DEV_CAREGIVERS.djiVerpleegkundige}"`)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
  })

  it('in English with ?lang=en', async () => {
    const res = await nurse.fetch(`/app/tasks/${taskId}?lang=en`)
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('Record a phone handover')
    await nurse.fetch('/?lang=nl')
  })

  it('a BIG number that is not eleven digits, or the same number twice, is refused with the field named', async () => {
    const page = await text(await nurse.fetch(`/app/tasks/${taskId}`))
    const version = /name="version" value="(\d+)"/.exec(page)![1]!
    const short = await nurse.postForm(`/app/tasks/${taskId}/phone-handover`, { _csrf: nurse.csrfOf(page), version, 'big-own': DEV_CAREGIVERS.djiVerpleegkundige, 'big-other': '123' })
    expect(short.status, await text(short)).toBe(422)
    expect(await text(short)).toContain('BIG-nummer van de zorgverlener die u sprak: 11 cijfers.')
    const same = await nurse.postForm(`/app/tasks/${taskId}/phone-handover`, { _csrf: nurse.csrfOf(page), version, 'big-own': DEV_CAREGIVERS.djiVerpleegkundige, 'big-other': DEV_CAREGIVERS.djiVerpleegkundige })
    expect(same.status, await text(same)).toBe(422)
    expect(await text(same)).toContain('twee verschillende BIG-nummers')
  })

  it('a caregiver of an organisation the task does not name gets the refusal the API gives for the same change', async () => {
    const escort = new CookieJar(w.baseUrl)
    const escortHome = await text(await escort.signIn('dev-escort-verpleegkundige'))
    const current = (await (await w.t.get(`/fhir/Task/${taskId}`, { as: 'gzaDoctor' })).json()) as Task
    const api = await w.t.put(`/fhir/Task/${taskId}`, { as: 'escortNurse', body: phoneHandoverTask(current, [DEV_CAREGIVERS.escortVerpleegkundige, DEV_CAREGIVERS.gzaArts]) })
    expect(api.status, await text(api)).toBe(404)
    const read = await escort.fetch(`/app/tasks/${taskId}`)
    expect(read.status, await text(read)).toBe(api.status)
    const post = await escort.postForm(`/app/tasks/${taskId}/phone-handover`, { _csrf: escort.csrfOf(escortHome), version: '1', 'big-own': DEV_CAREGIVERS.escortVerpleegkundige, 'big-other': DEV_CAREGIVERS.gzaArts })
    const html = await text(post)
    expect(post.status, html).toBe(api.status)
    expect(html).not.toContain(vNummer)
  })

  it('an extra recipient of the task may read it but not complete it: the page refuses as the API does', async () => {
    const other = newVNummer()
    await recordRefusal(other)
    const created = await w.t.post('/fhir/Task', {
      as: 'gzaDoctor',
      body: { resourceType: 'Task', status: 'requested', intent: 'order', code: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-code', code: 'transfer' }] }, for: { identifier: { system: 'https://overdracht.nl/fhir/NamingSystem/v-nummer', value: other } }, requester: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000001' } }, owner: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000002' } }, restriction: { recipient: [{ identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000003' } }] }, executionPeriod: { start: '2026-11-26' } },
    })
    expect(created.status, await text(created)).toBe(201)
    const task = (await created.json()) as Task
    const api = await w.t.put(`/fhir/Task/${task.id}`, { as: 'escortNurse', body: phoneHandoverTask(task, [DEV_CAREGIVERS.escortVerpleegkundige, DEV_CAREGIVERS.gzaArts]) })
    expect(api.status, await text(api)).toBe(403)
    const escort = new CookieJar(w.baseUrl)
    await escort.signIn('dev-escort-verpleegkundige')
    const page = await text(await escort.fetch(`/app/tasks/${task.id}`))
    const post = await escort.postForm(`/app/tasks/${task.id}/phone-handover`, { _csrf: escort.csrfOf(page), version: String(/name="version" value="(\d+)"/.exec(page)?.[1] ?? '1'), 'big-own': DEV_CAREGIVERS.escortVerpleegkundige, 'big-other': DEV_CAREGIVERS.gzaArts })
    expect(post.status, await text(post)).toBe(api.status)
    const after = (await (await w.t.get(`/fhir/Task/${task.id}`, { as: 'gzaDoctor' })).json()) as Task
    expect(after.status).toBe('requested')
  })

  it('a form from before the task changed is refused as stale', async () => {
    const page = await text(await nurse.fetch(`/app/tasks/${taskId}`))
    const version = Number(/name="version" value="(\d+)"/.exec(page)![1]!)
    const res = await nurse.postForm(`/app/tasks/${taskId}/phone-handover`, { _csrf: nurse.csrfOf(page), version: String(version + 1), 'big-own': DEV_CAREGIVERS.djiVerpleegkundige, 'big-other': DEV_CAREGIVERS.gzaArts })
    expect(res.status, await text(res)).toBe(409)
    expect(await text(res)).toContain('De taak is intussen gewijzigd')
  })

  it('a caregiver cannot record another caregiver as the one who held the call: not on the page, not through the API', async () => {
    const page = await text(await nurse.fetch(`/app/tasks/${taskId}`))
    const version = /name="version" value="(\d+)"/.exec(page)![1]!
    // Someone else's BIG number in the field of one's own.
    const res = await nurse.postForm(`/app/tasks/${taskId}/phone-handover`, { _csrf: nurse.csrfOf(page), version, 'big-own': DEV_CAREGIVERS.gzaArts, 'big-other': DEV_CAREGIVERS.escortVerpleegkundige })
    const html = await text(res)
    expect(res.status, html).toBe(422)
    expect(html).toContain('Dit is uw eigen BIG-nummer')
    // The API refuses the same: the caller's own BIG number must be one of the two.
    const current = (await (await w.t.get(`/fhir/Task/${taskId}`, { as: 'djiNurse' })).json()) as Task
    const api = await w.t.put(`/fhir/Task/${taskId}`, { as: 'djiNurse', body: phoneHandoverTask(current, [DEV_CAREGIVERS.gzaArts, DEV_CAREGIVERS.escortVerpleegkundige]) })
    expect(api.status, await text(api)).toBe(403)
    const after = (await (await w.t.get(`/fhir/Task/${taskId}`, { as: 'gzaDoctor' })).json()) as Task
    expect(after.status).toBe('requested')
  })

  it('a transport escort whose organisation carries out a departure cannot record a phone handover on it: only caregivers hold one', async () => {
    const regie = new CookieJar(w.baseUrl)
    const regieHome = await text(await regie.signIn('dev-regievoerder'))
    const announced = await regie.postForm('/app/departures', { _csrf: regie.csrfOf(regieHome), vnummer: vNummer, owner: '90000005', date: '2026-11-26' })
    const listed = await text(announced)
    expect(announced.status, listed).toBe(200)
    const inbox = (await (await w.t.get('/fhir/Task?owner=90000005', { as: 'dvoEscort' })).json()) as { entry?: { resource: Task }[] }
    const departureId = inbox.entry?.find((e) => e.resource.for?.identifier?.value === vNummer)?.resource.id ?? ''
    expect(departureId, listed).not.toBe('')
    const escort = new CookieJar(w.baseUrl)
    await escort.signIn('dev-dvo-escort')
    const page = await text(await escort.fetch(`/app/tasks/${departureId}`))
    expect(page).not.toContain('name="big-other"')
    const res = await escort.postForm(`/app/tasks/${departureId}/phone-handover`, { _csrf: escort.csrfOf(page), version: '1', 'big-own': DEV_CAREGIVERS.gzaArts, 'big-other': DEV_CAREGIVERS.djiVerpleegkundige })
    expect(res.status, await text(res)).toBe(422)
    // With the escort's own (absent) BIG number refused on the page, the API is the way left: refused too.
    const current = (await (await w.t.get(`/fhir/Task/${departureId}`, { as: 'regievoerder' })).json()) as Task
    const api = await w.t.put(`/fhir/Task/${departureId}`, { as: 'dvoEscort', body: phoneHandoverTask(current, [DEV_CAREGIVERS.gzaArts, DEV_CAREGIVERS.djiVerpleegkundige]) })
    expect(api.status, await text(api)).toBe(403)
    const after = (await (await w.t.get(`/fhir/Task/${departureId}`, { as: 'regievoerder' })).json()) as Task
    expect(after.status).toBe('requested')
  })

  it('records the phone handover: the task is completed with both BIG numbers and leaves the list at risk', async () => {
    const page = await text(await nurse.fetch(`/app/tasks/${taskId}`))
    const version = /name="version" value="(\d+)"/.exec(page)![1]!
    const res = await nurse.postForm(`/app/tasks/${taskId}/phone-handover`, { _csrf: nurse.csrfOf(page), version, 'big-own': DEV_CAREGIVERS.djiVerpleegkundige, 'big-other': DEV_CAREGIVERS.gzaArts })
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('De telefonische overdracht is vastgelegd en de taak is afgerond.')
    const api = await w.t.get(`/fhir/Task/${taskId}`, { as: 'gzaDoctor' })
    const task = (await api.json()) as Task
    expect(task.status).toBe('completed')
    expect(task.output?.find((o) => o.valueCode)?.valueCode).toBe('phone-handover')
    expect(task.output?.map((o) => o.valueIdentifier?.value).filter(Boolean).sort()).toEqual([DEV_CAREGIVERS.djiVerpleegkundige, DEV_CAREGIVERS.gzaArts].sort())
    const done = await text(await nurse.fetch(`/app/tasks/${taskId}`))
    expect(done).toContain('Afgerond')
    expect(done).toContain('<dd>Telefonische overdracht</dd>')
    expect(done).not.toContain('name="big-other"')
    // The completed transfer made the DJI the custodian: its patient page lists the task.
    const found = await text(await nurse.fetch(`/app/patients?kind=v-nummer&value=${vNummer}`))
    const patientLink = /href="(\/app\/patients\/[^"?]+)\?/.exec(found)?.[1] ?? ''
    const patientPage = await text(await nurse.fetch(patientLink))
    const tasks = section(patientPage, 'Taken van deze patiënt')
    expect(tasks, patientPage).toContain(`/app/tasks/${taskId}`)
    expect(tasks).toContain('Afgerond')
    expect(patientPage).toContain('Er is nog geen dossier opgeslagen.')
    expect(patientPage).toContain('Geen andere organisatie heeft het dossier geopend.')
    const doctorHome = await text(await doctor.fetch('/'))
    expect(section(doctorHome, 'Overdrachten in gevaar')).not.toContain(vNummer)
  })
})
