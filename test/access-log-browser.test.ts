import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import type { Bundle } from '@medplum/fhirtypes'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { consentResource, handoverBundle, newVNummer } from './support/fhir-builders.js'
import { createTestApp, type TestApp } from './support/test-app.js'

/**
 * The patient's access log (Wabvpz art. 15e) as a person gets it: the printable page, served by
 * the real app over real HTTP, opened and printed by a real headless Chromium. Skipped where
 * Debian's chromium is not installed (`apt-get install chromium`).
 */

const CHROMIUM = '/usr/bin/chromium'
const MINUTE = 60_000

async function text(res: Response) {
  return res.clone().text()
}

describe.skipIf(!existsSync(CHROMIUM))('the printable access log in a real browser', () => {
  let t: TestApp
  let server: ServerType | undefined
  let browser: Browser | undefined
  let baseUrl = ''
  let officerToken = ''
  let patientId = ''
  let outDir = ''

  beforeAll(async () => {
    t = await createTestApp()
    outDir = mkdtempSync(join(tmpdir(), 'overdracht-access-log-'))

    // A GZA doctor records consent and makes the dossier available.
    const vNummer = newVNummer()
    const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
    expect(consent.status, await text(consent)).toBe(201)
    const consentToken = consent.headers.get('x-consent-token')!
    t.clock.advance(5 * MINUTE)
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
    expect(upload.status, await text(upload)).toBe(201)
    const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
    patientId = ((await search.json()) as Bundle).entry![0]!.resource!.id!

    // The escort nurse reads it with the consent token.
    t.clock.advance(60 * MINUTE)
    const read = await t.get(`/fhir/Patient/${patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': consentToken } })
    expect(read.status, await text(read)).toBe(200)

    // A regievoerder is refused, as if there were no dossier.
    t.clock.advance(30 * MINUTE)
    const refused = await t.get(`/fhir/Patient/${patientId}/$handover`, { as: 'regievoerder', headers: { 'x-consent-token': consentToken } })
    expect(refused.status, await text(refused)).toBe(404)

    // The DJI nurse uses emergency access.
    t.clock.advance(45 * MINUTE)
    const emergency = await t.get(`/fhir/Patient/${patientId}/$handover`, {
      as: 'djiNurse',
      headers: { 'x-emergency-reason': 'Acute shortness of breath on arrival, need medication history' },
    })
    expect(emergency.status, await text(emergency)).toBe(200)

    t.clock.advance(15 * MINUTE)
    officerToken = await t.tokenFor('privacyOfficer')

    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    const { port } = server.address() as AddressInfo
    baseUrl = `http://127.0.0.1:${port}`

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()))
    await t?.close()
    if (outDir) rmSync(outDir, { recursive: true, force: true })
  })

  async function openPage(lang: 'nl' | 'en'): Promise<{ page: Page; status: number; csp: string | null }> {
    const context = await browser!.newContext({ viewport: { width: 1000, height: 1400 }, locale: lang === 'nl' ? 'nl-NL' : 'en-GB', javaScriptEnabled: false })
    const page = await context.newPage()
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${officerToken}` })
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    const response = await page.goto(`${baseUrl}/fhir/Patient/${patientId}/$access-log?_format=html&lang=${lang}&date=ge2026-11-01&date=lt2026-12-01`)
    // Nothing but the page itself was fetched: no fonts, images, scripts or style sheets from anywhere.
    expect(requests).toHaveLength(1)
    return { page, status: response!.status(), csp: response!.headers()['content-security-policy'] ?? null }
  }

  const cell = (page: Page, row: number, col: number) => page.locator('tbody tr').nth(row).locator('td').nth(col).innerText()

  it('in Dutch: the events in order, in the words a person reads', async () => {
    const { page, status, csp } = await openPage('nl')
    try {
      expect(status).toBe(200)
      expect(csp).toBe("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      expect(await page.locator('html').getAttribute('lang')).toBe('nl')
      expect(await page.locator('h1').innerText()).toBe('Wie heeft uw medische gegevens beschikbaar gesteld of ingezien')
      expect(await page.locator('dl.meta').innerText()).toContain(patientId)
      expect(await page.locator('dl.meta').innerText()).toMatch(/Van 1 november 2026, 00:00\s+tot 1 december 2026, 00:00/)
      expect(await page.locator('dl.meta').innerText()).toMatch(/Deze lijst is gemaakt op\s+24 november 2026, 12:35/)

      // The inline style sheet is allowed by the CSP and applied: headers repeat on printed pages.
      expect(await page.locator('thead').evaluate((el) => getComputedStyle(el).display)).toBe('table-header-group')
      expect(await page.locator('thead th').first().evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(230, 230, 230)')
      expect(await page.locator('table caption').innerText()).toMatch(/^Alle gebeurtenissen, van oud naar nieuw \(\d+ regels\)$/)
      expect(await page.locator('thead th[scope="col"]').allInnerTexts()).toEqual([
        'Datum en tijd',
        'Organisatie',
        'Persoon en rol',
        'Wat gebeurde er',
        'Toegestaan of geweigerd',
        'Op grond waarvan',
      ])

      const what = (await page.locator('tbody tr td:nth-child(4)').allInnerTexts()).map((s) => s.trim())
      const key = ['Dossier beschikbaar gesteld', 'Dossier ingezien', 'Dossier ingezien', 'Dossier ingezien']
      const positions = key.reduce<number[]>((acc, words) => [...acc, what.indexOf(words, (acc.at(-1) ?? -1) + 1)], [])
      expect(positions.every((p) => p >= 0), what.join(' | ')).toBe(true)
      // The recorded consent names the form it rests on.
      expect(what[0]).toMatch(/^Uw toestemming \(of weigering\) vastgelegd\s+Formulier: overdracht-toestemming versie 2026-01$/)
      for (const w of what) expect(w).not.toMatch(/\b[a-z]+\.[a-z]+\b/) // no raw event codes

      const [upload, escortRead, refusedRead, emergencyRead] = positions as [number, number, number, number]
      expect(await cell(page, upload, 0)).toBe('24 november 2026, 10:05')
      expect(await cell(page, upload, 1)).toMatch(/^GZA \(zorg voor asielzoekers\)\s+URA 90000001$/)
      expect(await cell(page, upload, 4)).toBe('Toegestaan')

      expect(await cell(page, escortRead, 0)).toBe('24 november 2026, 11:05')
      expect(await cell(page, escortRead, 1)).toMatch(/^Medische escorte/)
      expect(await cell(page, escortRead, 2)).toMatch(/^Test escort nurse\s+Rol: Zorgverlener\s+BIG-nummer 01000000330$/)
      expect(await cell(page, escortRead, 5)).toMatch(/Grondslag: Uw toestemming/)

      expect(await cell(page, refusedRead, 0)).toBe('24 november 2026, 11:35')
      expect(await cell(page, refusedRead, 1)).toMatch(/^DT&V \(Dienst Terugkeer en Vertrek\)\s+URA 90000004$/)
      expect(await cell(page, refusedRead, 2)).toMatch(/^onbekend\s+Rol: Regievoerder/)
      expect(await cell(page, refusedRead, 4)).toMatch(/^Geweigerd/)

      expect(await cell(page, emergencyRead, 0)).toBe('24 november 2026, 12:20')
      expect(await cell(page, emergencyRead, 1)).toMatch(/^Medische dienst DJI/)
      expect(await cell(page, emergencyRead, 4)).toBe('Toegestaan')
      const basis = await cell(page, emergencyRead, 5)
      expect(basis).toMatch(/^NOODTOEGANG/) // shown in capitals by the style sheet
      expect(basis).toContain('Noodsituatie (conflict van plichten)')
      expect(await page.locator('tbody tr.emergency').count()).toBe(1)

      // The times go forward.
      const times = await page.locator('tbody time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime') ?? ''))
      expect([...times].sort()).toEqual(times)

      const summary = await page.locator('ul.summary li').allInnerTexts()
      expect(summary.map((s) => s.replace(/\s+/g, ' ').trim())).toEqual([
        '1 keer Beschikbaar gesteld',
        '2 keer Ingezien (dossier of reisadvies)',
        expect.stringMatching(/^[1-9]\d* keer Geweigerd$/),
        '1 keer Noodtoegang',
        `${what.length} keer Alle regels samen`,
      ])

      const shot = join(outDir, 'access-log-nl.png')
      await page.screenshot({ path: shot, fullPage: true })
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG')
      writeFileSync('/tmp/access-log-nl.png', readFileSync(shot))

      await page.emulateMedia({ media: 'print' })
      const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true })
      expect(pdf.length).toBeGreaterThan(10_000)
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
      const pdfPath = join(outDir, 'access-log-nl.pdf')
      writeFileSync(pdfPath, pdf)
      expect(statSync(pdfPath).size).toBe(pdf.length)
    } finally {
      await page.context().close()
    }
  })

  it('in English, after the Dutch page was read: the same events, and the officer\'s read of the log is on it', async () => {
    const { page, status } = await openPage('en')
    try {
      expect(status).toBe(200)
      expect(await page.locator('html').getAttribute('lang')).toBe('en')
      expect(await page.locator('h1').innerText()).toBe('Who made your medical data available or looked at it')
      const what = (await page.locator('tbody tr td:nth-child(4)').allInnerTexts()).map((s) => s.trim())
      const outcomes = (await page.locator('tbody tr td:nth-child(5)').allInnerTexts()).map((s) => s.trim())
      expect(what).toContain('Made the dossier available')
      expect(what.filter((w) => w === 'Opened the dossier')).toHaveLength(3)
      expect(outcomes.some((o) => o.startsWith('Refused'))).toBe(true)
      expect(what.at(-1)).toBe('Looked at this list (the log)')
      expect(await page.locator('tbody tr').last().locator('td').nth(2).innerText()).toMatch(/Role: Privacy officer/)
      const emergency = page.locator('tbody tr.emergency')
      expect(await emergency.count()).toBe(1)
      expect(await emergency.locator('td').nth(5).innerText()).toMatch(/^EMERGENCY ACCESS\s+Purpose: Handover of care\s+Legal basis: Emergency \(conflict of duties\)$/)
      expect(await page.locator('dl.meta').innerText()).toMatch(/This list was made on\s+24 November 2026, 12:35/)

      const shot = join(outDir, 'access-log-en.png')
      await page.screenshot({ path: shot, fullPage: true })
      expect(statSync(shot).size).toBeGreaterThan(10_000)
      const pdf = await page.pdf({ format: 'A4', printBackground: true })
      expect(pdf.length).toBeGreaterThan(10_000)
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
    } finally {
      await page.context().close()
    }
  })

  it('without the privacy officer\'s token there is no page', async () => {
    const context = await browser!.newContext()
    try {
      const page = await context.newPage()
      const response = await page.goto(`${baseUrl}/fhir/Patient/${patientId}/$access-log?_format=html`)
      expect(response!.status()).toBe(401)
      expect(await page.content()).not.toContain('Dossier ingezien')
    } finally {
      await context.close()
    }
  })
})
