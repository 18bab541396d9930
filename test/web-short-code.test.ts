import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHORT_CODE_ATTEMPTS, SHORT_CODE_WINDOW_MS, normaliseShortCode } from '../src/consent/short-code.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { exampleActionFlag, exampleHandoverBundle } from '../src/perspective/examples.js'
import { erasePatientData } from '../src/retention/erasure.js'
import { newVNummer } from './support/fhir-builders.js'
import { CookieJar, postMultipart, startWebApp, text, type WebTestApp } from './support/web-app.js'

/**
 * The short code: what a caregiver reads out when the QR code cannot be scanned. It stands for the
 * consent token it was made with and adds no access of its own; guessing is limited per person.
 */

let w: WebTestApp
let doctor: CookieJar
let home = ''
let patientId = ''
let consentId = ''
let code = ''
let token = ''
const vNummer = newVNummer()
const PDF = Buffer.from('%PDF-1.4\n% signed consent form (test)\n%%EOF\n')
const CODE = /id="short-code"[^>]*value="([0-9A-Z]{5}-[0-9A-Z]{5})"/

async function signedIn(sub: string) {
  const jar = new CookieJar(w.baseUrl)
  const html = await text(await jar.signIn(sub))
  return { jar, csrf: jar.csrfOf(html) }
}

/** The escort organisation's refused dossier reads in the audit log. */
const escortDenials = () =>
  w.t.db.selectFrom('audit_event').select('id').where('org_id', '=', '90000003').where('event_type', '=', 'dossier.read').where('outcome', '=', 'deny').execute()

const openDossier = (who: { jar: CookieJar; csrf: string }, typed: string) => who.jar.postForm('/app/dossier', { _csrf: who.csrf, token: typed })

async function patientPage() {
  return text(await doctor.fetch(`/app/patients/${patientId}?v=${vNummer}`))
}

/** A new patient with a consent recorded on the page; the consent's id. */
async function consentOfNewPatient(d: { jar: CookieJar; csrf: string }) {
  const v = newVNummer()
  const res = await postMultipart(
    d.jar,
    '/app/consent',
    { _csrf: d.csrf, vnummer: v, decision: 'given', handover: ['medical-escort'], version: '2026-01', language: 'nl' },
    { scan: { data: PDF, type: 'application/pdf', name: 'form.pdf' } },
  )
  expect(res.status, await text(res)).toBe(200)
  const bundle = exampleHandoverBundle(v, [exampleActionFlag('medical-escort-required')])
  const up = await postMultipart(d.jar, '/app/bundle', { _csrf: d.csrf }, { file: { data: Buffer.from(JSON.stringify(bundle)), type: 'application/fhir+json', name: 'dossier.json' } })
  expect(up.status, await text(up)).toBe(200)
  const found = await w.t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${v}`)}`, { as: 'gzaDoctor' })
  const id = ((await found.json()) as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id
  const consent = await w.t.get(`/fhir/Consent?patient=${id}`, { as: 'gzaDoctor' })
  return { patientId: id, consentId: ((await consent.json()) as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id }
}

beforeAll(async () => {
  w = await startWebApp()
  doctor = new CookieJar(w.baseUrl)
  home = await text(await doctor.signIn('dev-gza-arts'))
  const res = await postMultipart(
    doctor,
    '/app/consent',
    { _csrf: doctor.csrfOf(home), vnummer: vNummer, decision: 'given', handover: ['medical-escort', 'dji-medical'], perspective: ['dtv'], version: '2026-01', language: 'nl' },
    { scan: { data: PDF, type: 'application/pdf', name: 'form.pdf' } },
  )
  const html = await text(res)
  expect(res.status, html).toBe(200)
  code = CODE.exec(html)?.[1] ?? ''
  token = /<textarea id="token-text"[^>]*>([^<]+)<\/textarea>/.exec(html)?.[1]?.trim() ?? ''
  const bundle = exampleHandoverBundle(vNummer, [exampleActionFlag('medical-escort-required')])
  const up = await postMultipart(doctor, '/app/bundle', { _csrf: doctor.csrfOf(home) }, { file: { data: Buffer.from(JSON.stringify(bundle)), type: 'application/fhir+json', name: 'dossier.json' } })
  expect(up.status, await text(up)).toBe(200)
  const found = await w.t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
  patientId = ((await found.json()) as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id
  consentId = /action="\/app\/consents\/([^"/]+)\/withdraw"/.exec(await patientPage())![1]!
})
afterAll(async () => w?.close())

describe('the short code beside the QR code', () => {
  it('recording a consent hands out a short code of ten characters beside the QR code and the full code', () => {
    expect(code, 'short code on the page').toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/)
    expect(token.split('.')).toHaveLength(3)
  })

  it('the escort nurse types it in lower case, with a space for the hyphen, and reads the dossier; the read is audited as a permit under the consent', async () => {
    const nurse = await signedIn('dev-escort-verpleegkundige')
    const res = await openDossier(nurse, code.toLowerCase().replace('-', ' '))
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('<h1>Medisch dossier</h1>')
    const permits = await w.t.db
      .selectFrom('audit_event')
      .select(['reason', 'consent_id'])
      .where('patient_id', '=', patientId)
      .where('org_id', '=', '90000003')
      .where('event_type', '=', 'dossier.read')
      .where('outcome', '=', 'permit')
      .execute()
    expect(permits).toEqual([{ reason: 'permit-consent', consent_id: consentId }])
  })

  it('letters people confuse with digits are read as those digits (O as 0, I and L as 1)', () => {
    expect(normaliseShortCode('0i1l0-ab cde')).toBe('01110ABCDE')
    expect(normaliseShortCode('OIL0O-ABCDE')).toBe('01100ABCDE')
    expect(normaliseShortCode('ABCDE-FGHJU')).toBeUndefined()
    expect(normaliseShortCode('ABCDE-FGHJ')).toBeUndefined()
  })

  it('the table holds neither the code nor the token: only an HMAC of the code and the token encrypted', async () => {
    const rows = await w.t.db.selectFrom('consent_short_code').selectAll().where('patient_id', '=', patientId).execute()
    expect(rows).toHaveLength(1)
    const stored = JSON.stringify(rows)
    expect(stored).not.toContain(code.replace('-', ''))
    expect(stored).not.toContain(code)
    expect(stored).not.toContain(token)
    expect(stored).not.toContain(token.split('.')[1]!)
  })

})

describe('a code for a named recipient', () => {
  it('the patient page offers it under the consent in force, and makes it for the DJI medical service by URA number', async () => {
    const html = await patientPage()
    expect(html).toContain('Code voor een bepaalde ontvanger')
    const res = await postMultipart(doctor, `/app/consents/${consentId}/token`, { _csrf: doctor.csrfOf(html), ura: '90000002', until: '2026-11-26' })
    const page = await text(res)
    expect(res.status, page).toBe(200)
    expect(page).toContain('Alleen te gebruiken door')
    expect(page).toContain('90000002')
    const named = CODE.exec(page)?.[1] ?? ''
    expect(named).not.toBe('')
    // The escort nurse is not the named recipient: refused, as the token itself would be.
    const nurse = await signedIn('dev-escort-verpleegkundige')
    const attempts = () => w.t.db.selectFrom('short_code_attempt').select('at').execute()
    const before = (await attempts()).length
    const refused = await openDossier(nurse, named)
    expect(refused.status, await text(refused)).toBe(403)
    // Someone else's code counts against the limit as an unknown one does.
    expect((await attempts()).length).toBe(before + 1)
    const dji = await signedIn('dev-dji-verpleegkundige')
    const opened = await openDossier(dji, named)
    expect(opened.status, await text(opened)).toBe(200)
    expect(await text(opened)).toContain('<h1>Medisch dossier</h1>')
  })

  it('no recipient, or two, is refused with the rule named and nothing made', async () => {
    const before = await w.t.db.selectFrom('consent_short_code').select('code_hash').execute()
    const attempts: Record<string, string>[] = [{}, { 'org-type': 'gza', ura: '90000002' }, { ura: '123' }, { big: '99999999999', until: 'tomorrow' }]
    for (const fields of attempts) {
      const res = await postMultipart(doctor, `/app/consents/${consentId}/token`, { _csrf: doctor.csrfOf(home), ...fields })
      const html = await text(res)
      expect(res.status, html).toBe(422)
      expect(html).toMatch(/Kies precies één ontvanger|Geldig tot en met/)
    }
    expect(await w.t.db.selectFrom('consent_short_code').select('code_hash').execute()).toHaveLength(before.length)
  })

  it('an end date before today or more than 30 days ahead is refused with the rule named', async () => {
    for (const until of ['2026-11-01', '2026-12-25']) {
      const res = await postMultipart(doctor, `/app/consents/${consentId}/token`, { _csrf: doctor.csrfOf(home), 'org-type': 'medical-escort', until })
      const html = await text(res)
      expect(res.status, html).toBe(422)
      expect(html).toContain('Een datum vanaf vandaag, binnen 30 dagen.')
    }
  })

  it('a type of organisation the consent does not name gets no code: it would open nothing', async () => {
    const res = await postMultipart(doctor, `/app/consents/${consentId}/token`, { _csrf: doctor.csrfOf(home), 'org-type': 'gza' })
    const html = await text(res)
    expect(res.status, html).toBe(422)
    expect(html).toContain('This consent does not permit handover to organisations of type gza')
    expect(html).not.toMatch(CODE)
  })

  it('a caregiver of another organisation cannot make a code under the consent: the refusal the API gives', async () => {
    const api = await w.t.post(`/fhir/Consent/${consentId}/$token`, {
      as: 'djiNurse',
      body: { resourceType: 'Parameters', parameter: [{ name: 'recipient', valueIdentifier: { system: SYSTEM.organizationType, value: 'dji-medical' } }] },
    })
    expect(api.status, await text(api)).toBeGreaterThanOrEqual(403)
    const dji = await signedIn('dev-dji-verpleegkundige')
    const before = await w.t.db.selectFrom('consent_short_code').select('code_hash').execute()
    const res = await dji.jar.fetch(`/app/consents/${consentId}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: dji.csrf, 'org-type': 'dji-medical' }).toString(),
    })
    const html = await text(res)
    expect(res.status, html).toBe(api.status)
    expect(html).not.toMatch(CODE)
    expect(await w.t.db.selectFrom('consent_short_code').select('code_hash').execute()).toHaveLength(before.length)
  })
})

describe('guessing is limited per person', () => {
  it(`after ${SHORT_CODE_ATTEMPTS} wrong codes even the right one is refused for a quarter of an hour; other people are not affected; each wrong code is audited`, async () => {
    // A window of its own: the failures of the tests above lie behind it.
    w.t.clock.advance(SHORT_CODE_WINDOW_MS + 1000)
    const nurse = await signedIn('dev-escort-verpleegkundige')
    const deniedBefore = await escortDenials()
    for (let i = 0; i < SHORT_CODE_ATTEMPTS; i++) {
      const res = await openDossier(nurse, `ZZZZZ-ZZZZ${i}`)
      expect(res.status, await text(res)).toBe(404)
    }
    const locked = await openDossier(nurse, code)
    const html = await text(locked)
    expect(locked.status, html).toBe(429)
    expect(html).toContain('Te veel onjuiste codes')
    const denied = await escortDenials()
    expect(denied.length - deniedBefore.length).toBe(SHORT_CODE_ATTEMPTS)
    // Another person, the same right code: opened.
    const dji = await signedIn('dev-dji-verpleegkundige')
    expect((await openDossier(dji, code)).status).toBe(200)
    // The full token (from the QR code) is not a guess: it still opens for the nurse.
    expect((await openDossier(nurse, token)).status).toBe(200)
    w.t.clock.advance(SHORT_CODE_WINDOW_MS + 1000)
    const again = await signedIn('dev-escort-verpleegkundige')
    const res = await openDossier(again, code)
    expect(res.status, await text(res)).toBe(200)
  })
})

describe('what ends a code', () => {
  it('withdrawal of the consent ends its codes at once', async () => {
    doctor = (await signedIn('dev-gza-arts')).jar
    const html = await patientPage()
    const res = await doctor.postForm(`/app/consents/${consentId}/withdraw`, { _csrf: doctor.csrfOf(html) })
    expect(res.status, await text(res)).toBe(200)
    expect(await w.t.db.selectFrom('consent_short_code').select('code_hash').where('consent_id', '=', consentId).execute()).toEqual([])
    const nurse = await signedIn('dev-escort-verpleegkundige')
    const after = await openDossier(nurse, code)
    expect(after.status, await text(after)).toBe(404)
    expect(await text(after)).toContain('Het dossier kon niet worden geopend')
  })

  it('erasure of the patient removes every code of the patient', async () => {
    const { patientId: id } = await consentOfNewPatient(await signedIn('dev-gza-arts'))
    expect(await w.t.db.selectFrom('consent_short_code').select('code_hash').where('patient_id', '=', id).execute()).toHaveLength(1)
    await w.t.db.transaction().execute((trx) => erasePatientData(trx, id, w.t.clock.now()))
    expect(await w.t.db.selectFrom('consent_short_code').select('code_hash').where('patient_id', '=', id).execute()).toEqual([])
  })
})

describe('how long a code lives', () => {
  it('the code lives no longer than a working day: after 12 hours it opens nothing', async () => {
    // A consent of another patient, still in force (the first one is withdrawn above).
    const d = await signedIn('dev-gza-arts')
    const live = (await consentOfNewPatient(d)).consentId
    const c = await text(await postMultipart(d.jar, `/app/consents/${live}/token`, { _csrf: d.csrf, 'org-type': 'medical-escort' }))
    const later = CODE.exec(c)?.[1] ?? ''
    const itsToken = /<textarea id="token-text"[^>]*>([^<]+)<\/textarea>/.exec(c)?.[1]?.trim() ?? ''
    expect(later, c).not.toBe('')
    expect((await openDossier(await signedIn('dev-escort-verpleegkundige'), later)).status).toBe(200)
    w.t.clock.advance(12 * 3600_000 + 1000)
    try {
      const nurse = await signedIn('dev-escort-verpleegkundige')
      const res = await openDossier(nurse, later)
      expect(res.status, await text(res)).toBe(404)
      expect(await text(res)).toContain('Het dossier kon niet worden geopend')
      // The token it stood for lives 24 hours: it still opens the dossier.
      const byToken = await openDossier(nurse, itsToken)
      expect(byToken.status, await text(byToken)).toBe(200)
    } finally {
      w.t.clock.advance(-(12 * 3600_000 + 1000))
    }
  })
})
