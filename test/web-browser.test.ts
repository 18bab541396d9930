import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import AxeBuilder from '@axe-core/playwright'
import * as jsqr from 'jsqr'
import { PNG } from 'pngjs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exampleActionFlag, exampleHandoverBundle } from '../src/perspective/examples.js'
import { DEV_CAREGIVERS } from '../src/big/file-register.js'
import { consentResource, newVNummer, taskResource } from './support/fhir-builders.js'
import { patientWithDossier, startWebApp, text, type WebTestApp } from './support/web-app.js'

/**
 * Each role's day in a real headless Chromium (Debian's /usr/bin/chromium), through the real
 * sign-in of the development OpenID provider, looking at what a person sees: headings, text,
 * buttons, labels. axe-core checks every page; the main page of each role is written to
 * docs/screens/ (see SCREENS). Skipped where chromium is not installed.
 */

const CHROMIUM = '/usr/bin/chromium'
/** jsqr is CommonJS with a default export: found wherever the loader put it. */
type Decode = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null
const m = jsqr as unknown as { default?: Decode | { default?: Decode } }
const jsQR: Decode = (typeof m.default === 'function' ? m.default : m.default?.default ?? (jsqr as unknown as Decode))
/**
 * The screenshots go to docs/screens/ when OVERDRACHT_WRITE_SCREENS=1 (to renew the README's
 * pictures), else to a folder of their own, so that a test run leaves the tree as it was.
 */
const SCREENS = process.env.OVERDRACHT_WRITE_SCREENS === '1'
  ? fileURLToPath(new URL('../docs/screens/', import.meta.url))
  : `${mkdtempSync(join(tmpdir(), 'overdracht-screens-'))}/`
const CANARY = 'CANARYbrowser9Z'

let w: WebTestApp
let browser: Browser | undefined
let patient: Awaited<ReturnType<typeof patientWithDossier>>
const cspViolations: string[] = []

describe.skipIf(!existsSync(CHROMIUM))('the web application in a real browser', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true })
    w = await startWebApp()
    patient = await patientWithDossier(w.t, CANARY)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await w?.close()
  })

  async function newPage(options: { phone?: boolean; javaScript?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({
      baseURL: w.baseUrl,
      locale: 'nl-NL',
      javaScriptEnabled: options.javaScript ?? true,
      ...(options.phone ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width: 1200, height: 900 } }),
    })
    const page = await context.newPage()
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text())
    })
    return { context, page }
  }

  /** No serious or critical accessibility violation on the page as it is now. */
  async function expectAccessible(page: Page) {
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([])
  }

  /** The real sign-in: the service's sign-in page, the provider's picker, one click. */
  async function signIn(page: Page, name: string) {
    await page.goto('/')
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Aanmelden')
    await expectAccessible(page)
    await page.getByRole('link', { name: 'Aanmelden' }).click()
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Kies een fictieve persoon')
    await expectAccessible(page)
    await page.getByRole('button', { name: `Aanmelden als ${name}` }).click()
    await page.waitForURL(`${w.baseUrl}/`)
  }

  const h1 = (page: Page) => page.getByRole('heading', { level: 1 }).innerText()

  it('the regievoerder announces a departure, reads the flags with the contact line, and signs out at the provider too', async () => {
    const { context, page } = await newPage()
    try {
      await signIn(page, 'R. Regie')
      expect(await h1(page)).toBe('Mijn taken')
      await page.getByLabel('V-nummer van de persoon').fill(patient.vNummer)
      await page.getByLabel('Uitvoerende organisatie (URA-nummer)').fill('90000005')
      await page.getByLabel('Geplande vertrekdatum').fill('2026-12-04')
      await page.getByRole('button', { name: 'Vertrek aankondigen' }).click()
      await expect.poll(() => page.getByRole('status').innerText()).toBe('Het vertrek is aangekondigd.')
      const row = page.getByRole('row', { name: new RegExp(patient.vNummer) })
      expect(await row.innerText()).toContain('4 december 2026')
      await expectAccessible(page)
      await page.screenshot({ path: `${SCREENS}regievoerder.png`, fullPage: true })

      await row.getByRole('link', { name: /Bekijk handelingsperspectief/ }).click()
      expect(await h1(page)).toBe(`Handelingsperspectief — ${patient.vNummer}`)
      const body = await page.locator('main').innerText()
      expect(body).toContain('Medische begeleiding vereist')
      expect(body).toContain('Zorg dat een verpleegkundige of arts de persoon begeleidt.')
      expect(body).toContain('Let op: dit is mogelijk niet actueel')
      expect(body).not.toContain(CANARY)
      const tel = page.getByRole('region', { name: 'Contact met de medische dienst' }).getByRole('link')
      expect(await tel.getAttribute('href')).toMatch(/^tel:\+?\d+$/)
      await expectAccessible(page)
      await page.screenshot({ path: `${SCREENS}handelingsperspectief.png`, fullPage: true })

      await page.getByRole('button', { name: 'Afmelden' }).click()
      await expect.poll(() => h1(page)).toBe('Afmelden bij de ontwikkel-identiteitsprovider?')
      await expectAccessible(page)
      await page.getByRole('button', { name: 'Ja, afmelden' }).click()
      await expect.poll(() => h1(page)).toBe('U bent afgemeld')
      // The provider's session ended too: signing in asks who again.
      await page.getByRole('link', { name: 'Opnieuw aanmelden' }).click()
      await expect.poll(() => h1(page)).toBe('Kies een fictieve persoon')
    } finally {
      await context.close()
    }
  })

  it('the escort nurse opens the dossier with the consent code on a phone-sized screen', async () => {
    const { context, page } = await newPage({ phone: true })
    try {
      await signIn(page, 'C. Fictief-Escorte')
      expect(await h1(page)).toBe('Vertrekken')
      await expectAccessible(page)
      await page.getByLabel('Toestemmingscode').fill(patient.consentToken)
      await page.getByRole('button', { name: 'Dossier openen' }).click()
      await expect.poll(() => h1(page)).toBe('Medisch dossier')
      const res = await page.reload()
      // A reload re-posts nothing and keeps nothing: the dossier is not in any cache.
      expect(res?.headers()['cache-control']).toBe('no-store')
      await page.goBack().catch(() => undefined)
      await page.getByLabel('Toestemmingscode').fill(patient.consentToken)
      await page.getByRole('button', { name: 'Dossier openen' }).click()
      await expect.poll(() => h1(page)).toBe('Medisch dossier')
      for (const heading of ['Patiënt', 'Alerts', 'Allergieën en intoleranties', 'Actuele medicatie', 'Problemen en diagnoses', 'Laatste metingen']) {
        expect(await page.getByRole('heading', { level: 2, name: heading }).count(), heading).toBe(1)
      }
      expect(await page.getByRole('region', { name: 'Actuele medicatie' }).innerText()).toContain(`${CANARY}-dosage`)
      expect(await page.getByRole('region', { name: 'Allergieën en intoleranties' }).innerText()).toContain(`${CANARY}-allergy`)
      // Mobile-first: nothing wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
      await expectAccessible(page)
      await page.screenshot({ path: `${SCREENS}escort-nurse.png`, fullPage: true })
    } finally {
      await context.close()
    }
  })

  it('the transport escort sees the departure assigned to it and its codes', async () => {
    const { context, page } = await newPage()
    try {
      await signIn(page, 'V. Vervoer')
      expect(await h1(page)).toBe('Mijn taken')
      await expectAccessible(page)
      await page.screenshot({ path: `${SCREENS}transport-escort.png`, fullPage: true })
      await page.getByRole('row', { name: new RegExp(patient.vNummer) }).getByRole('link').click()
      expect(await page.locator('main').innerText()).toContain('Medische begeleiding vereist')
      expect(await page.content()).not.toContain(CANARY)
      // Meldingen: the organisation's subscriptions; a refused endpoint shows the API's reason.
      await page.goto('/')
      await page.getByRole('link', { name: /^Meldingen/ }).click()
      expect(await h1(page)).toBe('Meldingen')
      await expectAccessible(page)
      await page.getByLabel('Adres (URL) van het ontvangende systeem').fill('https://169.254.169.254/latest')
      await page.getByRole('button', { name: 'Abonnement toevoegen' }).click()
      expect(await page.getByRole('alert').innerText()).toContain('(HTTP 422)')
      await expectAccessible(page)
    } finally {
      await context.close()
    }
  })

  it('the privacy officer closes an emergency review and prints an access log', async () => {
    const emergency = await w.t.get(`/fhir/Patient/${patient.patientId}/$handover`, {
      as: 'djiNurse',
      headers: { 'x-emergency-reason': 'Acute shortness of breath on arrival, need medication history' },
    })
    expect(emergency.status, await text(emergency)).toBe(200)
    const { context, page } = await newPage()
    try {
      await signIn(page, 'P. Privacy')
      expect(await h1(page)).toBe('Privacytoezicht')
      await expectAccessible(page)
      await page.screenshot({ path: `${SCREENS}privacy-officer.png`, fullPage: true })
      await page.getByLabel('Terecht', { exact: true }).check()
      await page.getByLabel('Toelichting').fill('Checked with the nurse on duty')
      await page.getByRole('button', { name: 'Beoordeling afsluiten' }).click()
      await expect.poll(() => page.getByRole('status').first().innerText()).toBe('De beoordeling is afgesloten.')
      expect(await page.locator('main').innerText()).toContain('Er is geen noodtoegang te beoordelen.')

      await page.getByLabel('Patiëntnummer in Overdracht').fill(patient.patientId)
      await page.getByRole('button', { name: 'Overzicht openen' }).click()
      await expect.poll(() => h1(page)).toBe('Wie heeft uw medische gegevens beschikbaar gesteld of ingezien')
      expect(await page.locator('main').innerText()).toContain('Noodtoegang')
      await expectAccessible(page)
      const pdf = await page.pdf({ format: 'A4', landscape: true })
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
      expect(await page.content()).not.toContain(CANARY)
    } finally {
      await context.close()
    }
  })

  it('the GZA doctor finds the patient by V-nummer', async () => {
    const { context, page } = await newPage()
    try {
      await signIn(page, 'A. Fictief-Gza')
      expect(await h1(page)).toBe('Patiënten')
      await expectAccessible(page)
      await page.screenshot({ path: `${SCREENS}caregiver.png`, fullPage: true })
      await page.getByLabel('Nummer', { exact: true }).fill(patient.vNummer)
      await page.getByRole('button', { name: 'Zoeken' }).click()
      expect(await page.locator('main').innerText()).toContain(patient.patientId)
      await expectAccessible(page)
    } finally {
      await context.close()
    }
  })

  it('the GZA doctor records consent with a scanned form, uploads the dossier, announces a transfer and sees its read receipt once the DJI opens it; the escort nurse opens it from the QR code on a phone', async () => {
    const vNummer = newVNummer()
    const { context, page } = await newPage()
    let token = ''
    let shortCode = ''
    let djiCode = ''
    try {
      await signIn(page, 'A. Fictief-Gza')
      const consent = page.getByRole('region', { name: 'Toestemming of weigering vastleggen' })
      await consent.getByLabel('V-nummer').fill(vNummer)
      await consent.getByLabel('Toestemming gegeven').check()
      await consent.getByLabel(/Gescand ondertekend formulier/).setInputFiles({ name: 'toestemming.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% signed (fictional)\n%%EOF\n') })
      await consent.getByRole('button', { name: 'Vastleggen' }).click()
      await expect.poll(() => h1(page)).toBe('De toestemming is vastgelegd.')
      await expectAccessible(page)
      await page.screenshot({ path: `${SCREENS}consent-code.png`, fullPage: true })
      // The QR code, read back from the pixels as a phone camera would.
      const png = PNG.sync.read(await page.getByRole('img', { name: 'QR-code met de toestemmingscode' }).screenshot())
      token = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? ''
      expect(token).toBe((await page.getByLabel('Toestemmingscode', { exact: true }).inputValue()).trim())
      shortCode = await page.getByLabel('Korte code').inputValue()
      expect(shortCode).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/)

      await page.getByRole('link', { name: 'Terug naar de startpagina' }).click()
      const bundle = exampleHandoverBundle(vNummer, [exampleActionFlag('medical-escort-required')])
      await page.getByLabel(/Dossierbestand/).setInputFiles({ name: 'dossier.json', mimeType: 'application/fhir+json', buffer: Buffer.from(JSON.stringify(bundle)) })
      await page.getByRole('button', { name: 'Uploaden' }).click()
      await expect.poll(() => page.getByRole('status').first().innerText()).toBe('Het dossier is opgeslagen als versie 1.')

      await page.getByLabel('Nummer', { exact: true }).fill(vNummer)
      await page.getByRole('button', { name: 'Zoeken' }).click()
      await page.getByRole('link', { name: /Open patiënt/ }).click()
      expect(await page.getByRole('region', { name: 'Toestemmingen' }).innerText()).toContain('Actief')
      await expectAccessible(page)
      // A code only the DJI medical service can use, for a transfer later in the week.
      const named = page.getByRole('region', { name: 'Code voor een bepaalde ontvanger' })
      await named.getByLabel('Organisatie (URA-nummer)').fill('90000002')
      await named.getByRole('button', { name: 'Code maken' }).click()
      await expect.poll(() => h1(page)).toBe('Code voor een bepaalde ontvanger')
      expect(await page.getByText('Alleen te gebruiken door').innerText()).toContain('90000002')
      djiCode = await page.getByLabel('Korte code').inputValue()
      expect(djiCode).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/)
      await expectAccessible(page)
      await page.goBack()
      await page.getByLabel('Ontvangende zorgorganisatie (URA-nummer)').fill('90000002')
      await page.getByLabel('Geplande datum van overplaatsing').fill('2026-11-30')
      await page.getByRole('button', { name: 'Overplaatsing aankondigen' }).click()
      await expect.poll(() => page.getByRole('status').first().innerText()).toBe('De overplaatsing is aangekondigd.')
      expect(await page.getByRole('region', { name: 'Door uw organisatie aangevraagd' }).innerText()).toContain(vNummer)
    } finally {
      await context.close()
    }
    const phone = await newPage({ phone: true })
    try {
      await signIn(phone.page, 'C. Fictief-Escorte')
      await phone.page.getByLabel('Toestemmingscode').fill(token)
      await phone.page.getByRole('button', { name: 'Dossier openen' }).click()
      await expect.poll(() => h1(phone.page)).toBe('Medisch dossier')
      // Without the camera: the short code, typed as a person would, in lower case.
      await phone.page.getByRole('link', { name: 'Terug naar de startpagina' }).click()
      await phone.page.getByLabel('Toestemmingscode of korte code').fill(shortCode.toLowerCase())
      await phone.page.getByRole('button', { name: 'Dossier openen' }).click()
      await expect.poll(() => h1(phone.page)).toBe('Medisch dossier')
    } finally {
      await phone.context.close()
    }
    // The receiving DJI nurse opens the dossier with the code made for the DJI; the GZA doctor then
    // sees the read receipt of the transfer in the outbox.
    const dji = await newPage()
    try {
      await signIn(dji.page, 'B. Fictief-Dji')
      await dji.page.getByLabel('Toestemmingscode of korte code').fill(djiCode)
      await dji.page.getByRole('button', { name: 'Dossier openen' }).click()
      await expect.poll(() => h1(dji.page)).toBe('Medisch dossier')
    } finally {
      await dji.context.close()
    }
    const sender = await newPage()
    try {
      await signIn(sender.page, 'A. Fictief-Gza')
      const row = sender.page.getByRole('region', { name: 'Door uw organisatie aangevraagd' }).getByRole('row').filter({ hasText: vNummer })
      expect(await row.innerText()).toMatch(/Overplaatsing[\s\S]*\d{1,2} november 2026, \d{2}:\d{2}/)
      await expectAccessible(sender.page)
    } finally {
      await sender.context.close()
    }
  })

  it('signing in and announcing a departure work without JavaScript, in English by choice', async () => {
    const { context, page } = await newPage({ javaScript: false })
    try {
      await page.goto('/?lang=en')
      expect(await h1(page)).toBe('Sign in')
      await page.getByRole('link', { name: 'Sign in' }).click()
      expect(await h1(page)).toBe('Pick a fictional person')
      await page.getByRole('button', { name: 'Sign in as R. Regie' }).click()
      await page.waitForURL(`${w.baseUrl}/`)
      expect(await h1(page)).toBe('My tasks')
      await page.getByLabel("The person's V-nummer").fill(patient.vNummer)
      await page.getByLabel('Executing organisation (URA number)').fill('90000006')
      await page.getByLabel('Planned departure date').fill('2026-12-20')
      await page.getByRole('button', { name: 'Announce departure' }).click()
      expect(await page.getByRole('status').innerText()).toBe('The departure has been announced.')
    } finally {
      await context.close()
    }
  })

  it('the patient refused: the DJI nurse records the phone handover on the task page, without JavaScript too', async () => {
    const vNummer = newVNummer()
    const refusal = await w.t.post('/fhir/Consent', { as: 'gzaDoctor', body: { ...consentResource({ vNummer, status: 'rejected' }) } })
    expect(refusal.status, await text(refusal)).toBe(201)
    const task = await w.t.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource({ vNummer, code: 'transfer', requester: '90000001', owner: '90000002', start: '2026-11-25' }) })
    expect(task.status, await text(task)).toBe(201)
    const taskId = ((await task.json()) as { id: string }).id
    const { context, page } = await newPage()
    try {
      await signIn(page, 'B. Fictief-Dji')
      await page.getByRole('region', { name: 'Aan uw organisatie toegewezen' }).getByRole('link', { name: new RegExp(`Overplaatsing ${vNummer}`) }).click()
      expect(await h1(page)).toBe(`Overplaatsing ${vNummer}`)
      expect(await page.getByLabel('Uw BIG-nummer').inputValue()).toBe(DEV_CAREGIVERS.djiVerpleegkundige)
      await expectAccessible(page)
    } finally {
      await context.close()
    }
    const noScript = await newPage({ javaScript: false })
    try {
      await noScript.page.goto('/')
      await noScript.page.getByRole('link', { name: 'Aanmelden' }).click()
      await noScript.page.getByRole('button', { name: 'Aanmelden als B. Fictief-Dji' }).click()
      await noScript.page.waitForURL(`${w.baseUrl}/`)
      await noScript.page.goto(`/app/tasks/${taskId}`)
      await noScript.page.getByLabel('BIG-nummer van de zorgverlener die u sprak').fill(DEV_CAREGIVERS.gzaArts)
      await noScript.page.getByRole('button', { name: 'Telefonische overdracht vastleggen' }).click()
      expect(await noScript.page.getByRole('status').innerText()).toBe('De telefonische overdracht is vastgelegd en de taak is afgerond.')
    } finally {
      await noScript.context.close()
    }
  })

  it('no page broke the Content-Security-Policy', () => {
    expect(cspViolations).toEqual([])
  })
})
