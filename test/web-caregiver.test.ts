import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exampleActionFlag, exampleHandoverBundle } from '../src/perspective/examples.js'
import { newVNummer } from './support/fhir-builders.js'
import { CookieJar, postMultipart, startWebApp, text, type WebTestApp } from './support/web-app.js'

/** A GZA doctor's day on the pages: consent with the scanned form, the dossier upload, the code for the escort nurse, a transfer. */

let w: WebTestApp
let doctor: CookieJar
let home = ''
const vNummer = newVNummer()
const PDF = Buffer.from('%PDF-1.4\n% signed consent form (test)\n%%EOF\n')

beforeAll(async () => {
  w = await startWebApp()
  doctor = new CookieJar(w.baseUrl)
  home = await text(await doctor.signIn('dev-gza-arts'))
})
afterAll(async () => w?.close())

const consentFields = (csrf: string) => ({
  _csrf: csrf,
  vnummer: vNummer,
  decision: 'given',
  handover: ['medical-escort', 'dji-medical'],
  perspective: ['dtv', 'dvo'],
  version: '2026-01',
  language: 'nl',
})

describe('a GZA doctor on the pages', () => {
  it('a consent without the scanned form is refused, the field named', async () => {
    const res = await postMultipart(doctor, '/app/consent', consentFields(doctor.csrfOf(home)))
    const html = await text(res)
    expect(res.status, html).toBe(422)
    expect(html).toContain('Gescand ondertekend formulier')
  })

  it('a "PDF" that is not one is refused', async () => {
    const res = await postMultipart(doctor, '/app/consent', consentFields(doctor.csrfOf(home)), { scan: { data: Buffer.from('not a pdf'), type: 'application/pdf', name: 'form.pdf' } })
    expect(res.status, await text(res)).toBe(422)
  })

  let token = ''
  it('records the consent with the scanned form and gets the code for the escort nurse as a QR code and as text', async () => {
    const res = await postMultipart(doctor, '/app/consent', consentFields(doctor.csrfOf(home)), { scan: { data: PDF, type: 'application/pdf', name: 'form.pdf' } })
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('De toestemming is vastgelegd.')
    expect(html).toContain('<svg')
    token = /<textarea id="token-text"[^>]*>([^<]+)<\/textarea>/.exec(html)?.[1]?.trim() ?? ''
    expect(token.split('.')).toHaveLength(3)
  })

  it('an invalid dossier file is refused with its problems per entry', async () => {
    const bundle = exampleHandoverBundle(vNummer, [{ resourceType: 'Observation', code: { text: 'x' } } as never])
    const res = await postMultipart(doctor, '/app/bundle', { _csrf: doctor.csrfOf(home) }, { file: { data: Buffer.from(JSON.stringify(bundle)), type: 'application/fhir+json', name: 'dossier.json' } })
    const html = await text(res)
    expect(res.status, html).toBe(422)
    expect(html).toContain('Het dossier is niet opgeslagen')
    expect(html).toMatch(/Onderdeel 2 \(Observation\)/)
  })

  it('uploads the dossier file and the escort nurse opens it with the code', async () => {
    const bundle = exampleHandoverBundle(vNummer, [exampleActionFlag('medical-escort-required')])
    const res = await postMultipart(doctor, '/app/bundle', { _csrf: doctor.csrfOf(home) }, { file: { data: Buffer.from(JSON.stringify(bundle)), type: 'application/fhir+json', name: 'dossier.json' } })
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('Het dossier is opgeslagen als versie 1.')
    const nurse = new CookieJar(w.baseUrl)
    const nurseHome = await text(await nurse.signIn('dev-escort-verpleegkundige'))
    const dossier = await nurse.postForm('/app/dossier', { _csrf: nurse.csrfOf(nurseHome), token })
    expect(dossier.status, await text(dossier)).toBe(200)
    expect(await text(dossier)).toContain('<h1>Medisch dossier</h1>')
  })

  it("the patient page shows the consent as active with its form attached", async () => {
    const found = await text(await doctor.fetch(`/app/patients?kind=v-nummer&value=${vNummer}`))
    const path = /href="(\/app\/patients\/[^"?]+\?v=[^"]+)"/.exec(found)![1]!.replace(/&amp;/g, '&')
    const res = await doctor.fetch(path)
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('Actief')
    expect(html).toContain('bijgevoegd')
    expect(html).not.toContain('er is geen actieve toestemming')
  })

  it('the patient page lists the dossier versions and who opened the dossier: the escort nurse’s organisation and time only', async () => {
    const found = await text(await doctor.fetch(`/app/patients?kind=v-nummer&value=${vNummer}`))
    const path = /href="(\/app\/patients\/[^"?]+\?v=[^"]+)"/.exec(found)![1]!.replace(/&amp;/g, '&')
    const html = await text(await doctor.fetch(path))
    const versions = html.slice(html.indexOf('id="versions-heading"'), html.indexOf('id="opens-heading"'))
    expect(versions, html).toContain('<td>1</td>')
    expect(versions).toContain('GZA (zorg voor asielzoekers) (90000001)')
    const opens = html.slice(html.indexOf('id="opens-heading"'))
    expect(opens, html).toContain('Medische escorte (90000003)')
    expect(opens).not.toContain('Fictief-Escorte')
    expect(opens).not.toContain('GZA (zorg voor asielzoekers) (90000001)')
    // In English too.
    const en = await text(await doctor.fetch(`${path}&lang=en`))
    expect(en).toContain('Who opened the dossier')
    expect(en).toContain('Dossier versions')
    await doctor.fetch('/?lang=nl')
  })

  it('a caregiver of an organisation that is not the custodian gets the refusal the API gives for the patient’s consents', async () => {
    const patientId = ((await (await w.t.get(`/fhir/Patient?identifier=${encodeURIComponent(`https://overdracht.nl/fhir/NamingSystem/v-nummer|${vNummer}`)}`, { as: 'gzaDoctor' })).json()) as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id
    const api = await w.t.get(`/fhir/Consent?patient=${patientId}`, { as: 'otherGzaDoctor' })
    expect(api.status, await text(api)).toBeGreaterThanOrEqual(403)
    const dji = new CookieJar(w.baseUrl)
    await dji.signIn('dev-dji-verpleegkundige')
    const viaApi = await w.t.get(`/fhir/Consent?patient=${patientId}`, { as: 'djiNurse' })
    const res = await dji.fetch(`/app/patients/${patientId}`)
    const html = await text(res)
    expect(res.status, html).toBe(viaApi.status)
    expect(html).not.toContain('Wie het dossier opende')
    expect(html).not.toContain(vNummer)
  })

  it('announces a transfer to the DJI and sees it in the outbox', async () => {
    const res = await doctor.postForm('/app/transfers', { _csrf: doctor.csrfOf(home), vnummer: vNummer, owner: '90000002', date: '2026-11-30' })
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('De overplaatsing is aangekondigd.')
    expect(html).toContain('Overplaatsing')
    expect(html).toContain(vNummer)
  })

  it('emergency access needs a reason of 20 characters, and then opens the dossier for the privacy officer to review', async () => {
    const dji = new CookieJar(w.baseUrl)
    const djiHome = await text(await dji.signIn('dev-dji-verpleegkundige'))
    const found = await w.t.get(`/fhir/Patient?identifier=${encodeURIComponent(`https://overdracht.nl/fhir/NamingSystem/v-nummer|${vNummer}`)}`, { as: 'gzaDoctor' })
    const patientId = ((await found.json()) as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id
    const short = await dji.postForm(`/app/patients/${patientId}/emergency`, { _csrf: dji.csrfOf(djiHome), reason: 'too short' })
    expect(short.status, await text(short)).toBe(422)
    expect(await text(short)).toContain('minstens 20 tekens')
    const res = await dji.postForm(`/app/patients/${patientId}/emergency`, { _csrf: dji.csrfOf(djiHome), reason: 'Patient collapsed on arrival, need the medication list now' })
    expect(res.status, await text(res)).toBe(200)
    expect(await text(res)).toContain('<h1>Medisch dossier</h1>')
    const officer = new CookieJar(w.baseUrl)
    const officerHome = await text(await officer.signIn('dev-gza-privacy'))
    expect(officerHome).toContain('Patient collapsed on arrival')
    // The audit search by patient and period: the emergency read is in it.
    const log = await officer.fetch(`/app/access-log?patient=${patientId}&from=2026-11-01&to=2026-11-30`)
    expect(log.status, await text(log)).toBe(200)
    expect(await text(log)).toContain('Noodtoegang')
    const empty = await officer.fetch(`/app/access-log?patient=${patientId}&from=2026-10-01&to=2026-10-31`)
    expect(await text(empty)).toContain('Deze lijst is leeg')
  })

  it('withdraws the consent on the patient page, and the escort nurse’s code stops working at once', async () => {
    const found = await text(await doctor.fetch(`/app/patients?kind=v-nummer&value=${vNummer}`))
    const path = /href="(\/app\/patients\/[^"?]+\?v=[^"]+)"/.exec(found)![1]!.replace(/&amp;/g, '&')
    const patientPage = await text(await doctor.fetch(path))
    const action = /action="(\/app\/consents\/[^"]+\/withdraw)"/.exec(patientPage)![1]!
    const res = await doctor.postForm(action, { _csrf: doctor.csrfOf(patientPage) })
    expect(res.status, await text(res)).toBe(200)
    expect(await text(res)).toContain('De toestemming is ingetrokken.')
    expect(await text(await doctor.fetch(path))).toContain('Ingetrokken')
    const nurse = new CookieJar(w.baseUrl)
    const nurseHome = await text(await nurse.signIn('dev-escort-verpleegkundige'))
    const dossier = await nurse.postForm('/app/dossier', { _csrf: nurse.csrfOf(nurseHome), token })
    expect(dossier.status, await text(dossier)).toBe(403)
  })

  it('a regievoerder cannot upload a dossier on the pages: refused before the file is read', async () => {
    const regie = new CookieJar(w.baseUrl)
    const regieHome = await text(await regie.signIn('dev-regievoerder'))
    const bundle = exampleHandoverBundle(vNummer, [])
    const res = await postMultipart(regie, '/app/bundle', { _csrf: regie.csrfOf(regieHome) }, { file: { data: Buffer.from(JSON.stringify(bundle)), type: 'application/fhir+json', name: 'dossier.json' } })
    expect(res.status, await text(res)).toBe(403)
  })
})
