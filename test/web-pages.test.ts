import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CookieJar, patientWithDossier, startWebApp, text, type WebTestApp } from './support/web-app.js'

/**
 * The pages of each role over real HTTP after the real development sign-in, and the canary test of
 * the API extended to the HTML: no string of a bundle on any page a non-caregiver can open, nor on
 * a caregiver's page the access rules refuse.
 */

const CANARY = 'CANARYwebpages7Q'
let w: WebTestApp
let patient: Awaited<ReturnType<typeof patientWithDossier>>
let regie: CookieJar
let regieHome = ''
let perspectivePath = ''

const NON_CAREGIVERS = ['dev-regievoerder', 'dev-dvo-escort', 'dev-kmar-escort', 'dev-coa-casemanager', 'dev-gza-privacy'] as const

beforeAll(async () => {
  w = await startWebApp()
  patient = await patientWithDossier(w.t, CANARY)
  regie = new CookieJar(w.baseUrl)
  regieHome = await text(await regie.signIn('dev-regievoerder'))
  // The departure: DV&O executes it, the COA is an extra recipient; planned 10 days after the review.
  const res = await regie.postForm('/app/departures', {
    _csrf: regie.csrfOf(regieHome),
    vnummer: patient.vNummer,
    owner: '90000005',
    recipients: '90000007',
    date: '2026-12-04',
  })
  regieHome = await text(res)
  expect(res.status, regieHome).toBe(200)
  perspectivePath = /href="(\/app\/tasks\/[^"]+\/perspective)"/.exec(regieHome)?.[1] ?? ''
})
afterAll(async () => w?.close())

const signIn = async (sub: string) => {
  const j = new CookieJar(w.baseUrl)
  const res = await j.signIn(sub)
  const html = await text(res)
  expect(res.status, html).toBe(200)
  return { j, html }
}

describe('a regievoerder', () => {
  it('announces a departure and sees it among the requested tasks with its planned date', () => {
    expect(regieHome).toContain('Het vertrek is aangekondigd.')
    expect(regieHome).toContain(patient.vNummer)
    expect(regieHome).toContain('4 december 2026')
    expect(perspectivePath).not.toBe('')
  })

  it("reads the flags in plain Dutch with what to do, the provenance, the stale warning and the contact line as a tel: link", async () => {
    const res = await regie.fetch(perspectivePath)
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('<h1>Handelingsperspectief')
    expect(html).toContain('Medische begeleiding vereist')
    expect(html).toContain('Zorg dat een verpleegkundige of arts de persoon begeleidt.')
    expect(html).toContain('Extra toezicht nodig')
    expect(html).toContain('Laatst beoordeeld')
    expect(html).toContain('GZA (zorg voor asielzoekers)')
    expect(html).toContain('Let op: dit is mogelijk niet actueel')
    expect(html).toContain('De laatste beoordeling ligt meer dan 7 dagen voor het geplande vertrek.')
    expect(html).toMatch(/href="tel:\+?\d+"/)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it("a regievoerder's perspective page shows no diagnosis, medication or other bundle text", async () => {
    const html = await text(await regie.fetch(perspectivePath))
    expect(html).not.toContain(CANARY)
  })

  it('reads the same page in English on request', async () => {
    const html = await text(await regie.fetch(`${perspectivePath}?lang=en`))
    expect(html).toContain('<html lang="en">')
    expect(html).toContain('Medical escort required')
    expect(html).toContain('Make sure a nurse or doctor escorts the person.')
  })

  it('an announcement with a malformed organisation number is refused with the field named', async () => {
    regie.cookies.delete('overdracht-lang')
    const res = await regie.postForm('/app/departures', { _csrf: regie.csrfOf(regieHome), vnummer: patient.vNummer, owner: '123', date: '2026-12-04' })
    const html = await text(res)
    expect(res.status, html).toBe(422)
    expect(html).toContain('Niet alle velden zijn goed ingevuld')
    expect(html).toContain('Uitvoerende organisatie (URA-nummer)')
  })
})

describe('transport escort and case manager', () => {
  it('the DV&O escort sees the departure assigned to it and the escort codes', async () => {
    const { j, html } = await signIn('dev-dvo-escort')
    expect(html).toContain('<h1>Mijn taken</h1>')
    expect(html).toContain(patient.vNummer)
    const path = /href="(\/app\/tasks\/[^"]+\/perspective)"/.exec(html)![1]!
    const page = await text(await j.fetch(path))
    expect(page).toContain('Medische begeleiding vereist')
    expect(page).not.toContain(CANARY)
  })

  it('the COA case manager, an extra recipient, sees only the case-manager codes', async () => {
    const { j, html } = await signIn('dev-coa-casemanager')
    const path = /href="(\/app\/tasks\/[^"]+\/perspective)"/.exec(html)![1]!
    const page = await text(await j.fetch(path))
    expect(page).toContain('Extra toezicht nodig')
    expect(page).not.toContain('Medische begeleiding vereist')
    expect(page).not.toContain(CANARY)
  })

  it('the KMar escort, no party of the task, is told the perspective is not found', async () => {
    const { j } = await signIn('dev-kmar-escort')
    const res = await j.fetch(perspectivePath)
    expect(res.status, await text(res)).toBe(404)
  })
})

describe('the escort nurse', () => {
  it('opens the readable dossier with the consent code: patient, allergies, medication with dosage, conditions', async () => {
    const { j, html } = await signIn('dev-escort-verpleegkundige')
    expect(html).toContain('<h1>Vertrekken</h1>')
    const res = await j.postForm('/app/dossier', { _csrf: j.csrfOf(html), token: patient.consentToken })
    const page = await text(res)
    expect(res.status, page).toBe(200)
    expect(page).toContain('<h1>Medisch dossier</h1>')
    expect(page).toContain(`${CANARY}-family`)
    expect(page).toContain(`${CANARY}-allergy`)
    expect(page).toContain(`${CANARY}-medication`)
    expect(page).toContain(`${CANARY}-dosage`)
    expect(page).toContain(`${CANARY}-diagnosis`)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('the camera scan is a script file of this service, an enhancement of a form that works by typing', async () => {
    const { j, html } = await signIn('dev-escort-verpleegkundige')
    expect(html).toContain('<script src="/assets/scan.js" defer="">')
    expect(html).toContain('<label for="token">Toestemmingscode of korte code')
    const script = await j.fetch('/assets/scan.js')
    expect(script.status, await text(script)).toBe(200)
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(await text(script)).toContain('BarcodeDetector')
  })

  it('the language switch on the answer to a form leads to a page, not back to the form post', async () => {
    const { j, html } = await signIn('dev-escort-verpleegkundige')
    const page = await text(await j.postForm('/app/dossier', { _csrf: j.csrfOf(html), token: patient.consentToken }))
    expect(page).toContain('<a href="/?lang=en" lang="en" hreflang="en">English</a>')
  })

  it('a wrong code is refused and the page holds nothing of the bundle', async () => {
    const { j, html } = await signIn('dev-escort-verpleegkundige')
    const res = await j.postForm('/app/dossier', { _csrf: j.csrfOf(html), token: `${patient.consentToken.slice(0, -4)}AAAA` })
    const page = await text(res)
    expect([403, 404], page).toContain(res.status)
    expect(page).toContain('Het dossier kon niet worden geopend')
    expect(page).not.toContain(CANARY)
  })
})

describe('P8 on the pages: no canary of a bundle reaches a non-caregiver', () => {
  it.each(NON_CAREGIVERS)('%s: no page it can open holds a canary, the dossier with a valid code included', async (sub) => {
    const { j, html } = await signIn(sub)
    const pages = [html]
    for (const [, path] of html.matchAll(/href="(\/app\/[^"]+)"/g)) pages.push(await text(await j.fetch(path!)))
    pages.push(await text(await j.fetch(perspectivePath)))
    pages.push(await text(await j.fetch(`/app/access-log?patient=${encodeURIComponent(patient.patientId)}`)))
    // Presenting the consent code itself: refused, and nothing of the bundle in the answer.
    const dossier = await j.postForm('/app/dossier', { _csrf: j.csrfOf(html), token: patient.consentToken })
    expect(dossier.status).not.toBe(200)
    pages.push(await text(dossier))
    for (const page of pages) expect(page).not.toContain(CANARY)
    expect(w.t.logLines.join('\n')).not.toContain(CANARY)
  })
})

describe('the privacy officer', () => {
  it("opens the patient's printable access log with the session, no Bearer header", async () => {
    const { j } = await signIn('dev-gza-privacy')
    const res = await j.fetch(`/app/access-log?patient=${encodeURIComponent(patient.patientId)}`)
    const page = await text(res)
    expect(res.status, page).toBe(200)
    expect(page).toContain('Wie heeft uw medische gegevens beschikbaar gesteld of ingezien')
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('sees the emergency access to review and closes it with the form', async () => {
    const emergency = await w.t.get(`/fhir/Patient/${patient.patientId}/$handover`, {
      as: 'djiNurse',
      headers: { 'x-emergency-reason': 'Acute shortness of breath on arrival, need medication history' },
    })
    expect(emergency.status, await text(emergency)).toBe(200)
    const { j, html } = await signIn('dev-gza-privacy')
    expect(html).toContain('<h1>Privacytoezicht</h1>')
    expect(html).toContain('Acute shortness of breath on arrival')
    const action = /action="(\/app\/reviews\/[^"]+\/close)"/.exec(html)![1]!
    const res = await j.postForm(action, { _csrf: j.csrfOf(html), conclusion: 'justified', note: 'Checked with the nurse' })
    const after = await text(res)
    expect(res.status, after).toBe(200)
    expect(after).toContain('De beoordeling is afgesloten.')
    expect(after).toContain('Er is geen noodtoegang te beoordelen.')
  })
})

describe('a GZA caregiver', () => {
  it('finds the patient by V-nummer', async () => {
    const { j, html } = await signIn('dev-gza-arts')
    expect(html).toContain('<h1>Patiënten</h1>')
    const res = await j.fetch(`/app/patients?kind=v-nummer&value=${encodeURIComponent(patient.vNummer)}`)
    const page = await text(res)
    expect(res.status, page).toBe(200)
    expect(page).toContain(patient.patientId)
  })

  it('a caregiver whose BIG registration is suspended finds nothing and reads nothing', async () => {
    const { j, html } = await signIn('dev-gza-geschorst')
    const res = await j.fetch(`/app/patients?kind=v-nummer&value=${encodeURIComponent(patient.vNummer)}`)
    const page = await text(res)
    expect(page).not.toContain(patient.patientId)
    expect(page).not.toContain(CANARY)
    expect(html).not.toContain(CANARY)
  })
})
