import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Bundle, Parameters, Resource, Task } from '@medplum/fhirtypes'
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { CARD_AUDIENCE, CARD_TYP, verifyCardToken } from '../src/escort-card/card-token.js'
import { verifyCard } from '../src/escort-card/verify-card.js'
import {
  exampleActionFlag,
  exampleFitToTravelObservation,
  exampleHandoverBundle,
  exampleMedicationStatement,
} from '../src/perspective/examples.js'
import { VOCABULARY } from '../src/perspective/vocabulary.js'
import { consentResource, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'

const CHROMIUM = '/usr/bin/chromium'
const text = (res: Response) => res.clone().text()
const ISSUER = 'urn:overdracht'
const CANARY = 'CANARYcard5X'
const BSN = '999990019'

let t: TestApp
let vNummer: string
let patientId: string
let departure: Task
let jwks: JSONWebKeySet

beforeAll(async () => {
  t = await createTestApp()
  vNummer = newVNummer()
  const now = t.clock.now().toISOString()
  const resources: Resource[] = [
    exampleFitToTravelObservation('conditional', now),
    exampleMedicationStatement(),
    exampleActionFlag('medical-escort-required'),
    exampleActionFlag('extra-supervision', { legalGround: 'legal-obligation' }),
    exampleActionFlag('hygiene-measures', { legalGround: 'legal-obligation' }),
    exampleActionFlag('mobility-aid'),
  ]
  const bundle: Bundle = exampleHandoverBundle(vNummer, resources)
  const patient = bundle.entry![0]!.resource as unknown as Record<string, any>
  patient.name = [{ family: `${CANARY}family`, given: [`${CANARY}given`] }]
  patient.identifier = [...patient.identifier, { system: SYSTEM.bsn, value: BSN }]
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(consent.status, await text(consent)).toBe(201)
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
  expect(upload.status, await text(upload)).toBe(201)
  const start = new Date(t.clock.now().getTime() + 2 * 24 * 3600_000).toISOString()
  const created = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, recipients: [URA.coa], start }) })
  expect(created.status, await text(created)).toBe(201)
  departure = (await created.json()) as Task
  patientId = departure.for!.reference!.replace('Patient/', '')
  jwks = (await (await t.get('/.well-known/jwks.json')).json()) as JSONWebKeySet
})
afterAll(async () => t?.close())

async function card(as: CallerName, taskId = departure.id!) {
  const res = await t.get(`/fhir/Task/${taskId}/$escort-card`, { as })
  expect(res.status, await text(res)).toBe(200)
  const p = (await res.json()) as Parameters
  return { token: p.parameter!.find((x) => x.name === 'token')!.valueString!, parameters: p }
}

async function perspectiveCodes(as: CallerName): Promise<string[]> {
  const res = await t.get(`/fhir/Patient/${patientId}/$handelingsperspectief`, { as })
  expect(res.status, await text(res)).toBe(200)
  const p = (await res.json()) as Parameters
  return p.parameter!.filter((x) => x.name === 'flag').map((f) => {
    const code = f.part!.find((x) => x.name === 'code')!.valueCoding!.code!
    const value = f.part!.find((x) => x.name === 'value')?.valueCoding?.code
    return value ? `${code}=${value}` : code
  })
}

describe('$escort-card', () => {
  it.each(['dvoEscort', 'coaCaseManager', 'regievoerder'] as const)('the card of %s holds exactly the codes its $handelingsperspectief release holds, and verifies against the published keys', async (as) => {
    const { token } = await card(as)
    const verdict = await verifyCardToken(token, jwks, { issuer: ISSUER, now: t.clock.now() })
    expect(verdict.valid, JSON.stringify(verdict)).toBe(true)
    if (!verdict.valid) return
    expect([...verdict.claims.codes].sort()).toEqual((await perspectiveCodes(as)).sort())
    expect(verdict.claims).toMatchObject({ iss: ISSUER, aud: CARD_AUDIENCE, task: departure.id, dep: Date.parse(departure.executionPeriod!.start!) / 1000 })
    expect(verdict.claims.exp! * 1000 - Date.parse(departure.executionPeriod!.start!)).toBe(6 * 3600_000)
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: CARD_TYP })
  })

  it("a casemanager's card holds no code outside the casemanager column: no fitness to travel, no medication", async () => {
    const { token } = await card('coaCaseManager')
    const verdict = await verifyCardToken(token, jwks, { issuer: ISSUER, now: t.clock.now() })
    if (!verdict.valid) throw new Error(JSON.stringify(verdict))
    expect(verdict.claims.codes.length).toBeGreaterThan(0)
    for (const c of verdict.claims.codes) expect(VOCABULARY[c.split('=')[0] as keyof typeof VOCABULARY].audiences).toContain('casemanager')
    const escort = await verifyCardToken((await card('dvoEscort')).token, jwks, { issuer: ISSUER, now: t.clock.now() })
    if (!escort.valid) throw new Error(JSON.stringify(escort))
    expect(escort.claims.codes).toContain('medication-accompanies')
    expect(escort.claims.codes).toContain('fit-to-travel=conditional')
  })

  it('the token holds no V-nummer, BSN, name, patient id or bundle text', async () => {
    const { token } = await card('dvoEscort')
    const decoded = token.split('.').slice(0, 2).map((p) => Buffer.from(p, 'base64url').toString('utf8')).join('\n')
    for (const secret of [vNummer, BSN, CANARY, patientId]) expect(decoded.includes(secret), secret).toBe(false)
  })

  it('an escort card offered as a consent token opens no dossier: same key ring, another type and audience', async () => {
    const { token } = await card('dvoEscort')
    const res = await t.get(`/fhir/Patient/${patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': token } })
    expect(res.status, await text(res)).toBe(403)
    const entry = await t.db.selectFrom('audit_event').select('reason').where('org_id', '=', URA.escort).where('patient_id', '=', patientId)
      .where('event_type', '=', 'dossier.read').orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(entry.reason).toBe('deny-token-invalid')
  })

  it('a party of no task is refused (404) and the refusal is audited', async () => {
    const res = await t.get(`/fhir/Task/${departure.id}/$escort-card`, { as: 'kmarEscort' })
    expect(res.status, await text(res)).toBe(404)
    const denied = await t.db.selectFrom('audit_event').select('id').where('org_id', '=', URA.kmar).where('outcome', '=', 'deny').where('resource_id', '=', departure.id!).execute()
    expect(denied.length).toBeGreaterThan(0)
  })

  it('offline verification refuses a tampered card, an expired card and a card signed by an unknown key, each with its reason', async () => {
    const { token } = await card('dvoEscort')
    const [h, p, s] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { codes: string[]; exp: number }
    const widened = Buffer.from(JSON.stringify({ ...claims, codes: [...claims.codes, 'restraints-medically-discouraged'] })).toString('base64url')
    const tampered = await verifyCard({ token: `${h}.${widened}.${s}`, jwks, issuer: ISSUER, now: t.clock.now() })
    expect(tampered).toMatchObject({ valid: false, reason: 'signature' })
    const expired = await verifyCard({ token, jwks, issuer: ISSUER, now: new Date(claims.exp * 1000 + 3600_000) })
    expect(expired).toMatchObject({ valid: false, reason: 'expired' })
    const { privateKey } = await generateKeyPair('ES256')
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'forger', typ: CARD_TYP }).setIssuer(ISSUER).setAudience(CARD_AUDIENCE).setSubject('x').setJti('j').setIssuedAt().sign(privateKey)
    expect(await verifyCard({ token: forged, jwks, issuer: ISSUER, now: t.clock.now() })).toMatchObject({ valid: false, reason: 'unknown-key' })
    const kid = decodeProtectedHeader(token).kid!
    const sameKid = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: CARD_TYP }).setIssuer(ISSUER).setAudience(CARD_AUDIENCE).setSubject('x').setJti('j').setIssuedAt().sign(privateKey)
    expect(await verifyCard({ token: sameKid, jwks, issuer: ISSUER, now: t.clock.now() })).toMatchObject({ valid: false, reason: 'signature' })
    expect(await verifyCard({ token, jwks, issuer: ISSUER, audience: 'urn:other', now: t.clock.now() })).toMatchObject({ valid: false, reason: 'audience' })
    // A consent token is no card, though signed with the same key.
    const consentToken = (await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })).headers.get('x-consent-token')!
    expect((await verifyCard({ token: consentToken, jwks, issuer: ISSUER, now: t.clock.now() })).valid).toBe(false)
  })

  it('a card for a departure more than 30 days ahead is refused (409): no card outlives a retired signing key', async () => {
    const far = new Date(t.clock.now().getTime() + 40 * 24 * 3600_000).toISOString()
    const created = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, start: far }) })
    expect(created.status, await text(created)).toBe(201)
    const res = await t.get(`/fhir/Task/${((await created.json()) as Task).id}/$escort-card`, { as: 'dvoEscort' })
    expect(res.status, await text(res)).toBe(409)
  })

  it('the online status says valid, then revoked once the perspective is reviewed again or the departure closes', async () => {
    const { parameters } = await card('dvoEscort')
    const statusUrl = new URL(parameters.parameter!.find((x) => x.name === 'status')!.valueUri!)
    const status = async () => (await (await t.get(statusUrl.pathname)).json()) as { status: string; reason?: string }
    expect(await status()).toEqual({ status: 'valid' })
    t.clock.advance(60_000)
    const again = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: exampleHandoverBundle(vNummer, [exampleActionFlag('extra-supervision', { legalGround: 'legal-obligation' })]) })
    expect(again.status, await text(again)).toBe(201)
    expect(await status()).toEqual({ status: 'revoked', reason: 'perspective-changed' })
    const fresh = await card('dvoEscort')
    const freshStatus = new URL(fresh.parameters.parameter!.find((x) => x.name === 'status')!.valueUri!)
    expect(await (await t.get(freshStatus.pathname)).json()).toEqual({ status: 'valid' })
    expect((await t.get('/escort-card/status/00000000-0000-0000-0000-000000000000')).status).toBe(200)
    expect(await (await t.get('/escort-card/status/00000000-0000-0000-0000-000000000000')).json()).toEqual({ status: 'unknown' })
    const cancel = await t.put(`/fhir/Task/${departure.id}`, {
      as: 'regievoerder',
      body: { ...taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, recipients: [URA.coa], start: departure.executionPeriod!.start!, status: 'cancelled' }), id: departure.id },
    })
    expect(cancel.status, await text(cancel)).toBe(200)
    expect(await (await t.get(freshStatus.pathname)).json()).toEqual({ status: 'revoked', reason: 'departure-closed' })
    const refused = await t.get(`/fhir/Task/${departure.id}/$escort-card`, { as: 'dvoEscort' })
    expect(refused.status, await text(refused)).toBe(409)
  })
})

describe('cards void when what they show no longer holds', () => {
  async function ownDeparture() {
    const v = newVNummer()
    const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: v }) })
    expect(consent.status, await text(consent)).toBe(201)
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: exampleHandoverBundle(v, [exampleActionFlag('medical-escort-required'), exampleActionFlag('extra-supervision', { legalGround: 'legal-obligation' })]) })
    expect(upload.status, await text(upload)).toBe(201)
    const start = new Date(t.clock.now().getTime() + 2 * 24 * 3600_000).toISOString()
    const spec = { vNummer: v, requester: URA.dtv, owner: URA.dvo, recipients: [URA.kmar], start }
    const created = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource(spec) })
    expect(created.status, await text(created)).toBe(201)
    return { consent: (await consent.json()) as Record<string, unknown>, task: (await created.json()) as Task, spec }
  }
  const statusOf = async (parameters: Parameters) =>
    (await (await t.get(new URL(parameters.parameter!.find((x) => x.name === 'status')!.valueUri!).pathname)).json()) as { status: string; reason?: string }

  it('a card is revoked online once the patient withdraws consent (P6: at once)', async () => {
    const d = await ownDeparture()
    const { parameters } = await card('dvoEscort', d.task.id!)
    expect(await statusOf(parameters)).toEqual({ status: 'valid' })
    t.clock.advance(60_000)
    const withdrawn = await t.put(`/fhir/Consent/${d.consent.id}`, { as: 'gzaDoctor', body: { ...d.consent, status: 'inactive' } })
    expect(withdrawn.status, await text(withdrawn)).toBe(200)
    expect(await statusOf(parameters)).toEqual({ status: 'revoked', reason: 'consent-changed' })
  })

  it("a card is revoked online once its holder's organisation is taken off the departure", async () => {
    const d = await ownDeparture()
    const { parameters } = await card('kmarEscort', d.task.id!)
    expect(await statusOf(parameters)).toEqual({ status: 'valid' })
    const { recipients: _gone, ...withoutKmar } = d.spec
    const changed = await t.put(`/fhir/Task/${d.task.id}`, { as: 'regievoerder', body: { ...taskResource(withoutKmar), id: d.task.id } })
    expect(changed.status, await text(changed)).toBe(200)
    expect(await statusOf(parameters)).toEqual({ status: 'revoked', reason: 'no-longer-a-party' })
  })
})

describe.skipIf(!existsSync(CHROMIUM))('the escort card in a real browser', () => {
  let server: ServerType | undefined
  let browser: Browser | undefined
  let base = ''
  let app: TestApp
  let task: Task

  beforeAll(async () => {
    app = await createTestApp()
    const v = newVNummer()
    const now = app.clock.now().toISOString()
    expect((await app.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: v }) })).status).toBe(201)
    const bundle = exampleHandoverBundle(v, [exampleFitToTravelObservation('yes', now), exampleMedicationStatement(), exampleActionFlag('extra-supervision', { legalGround: 'legal-obligation' })])
    expect((await app.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })).status).toBe(201)
    const created = await app.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: v, requester: URA.dtv, owner: URA.dvo, start: new Date(Date.now() + 24 * 3600_000).toISOString() }) })
    expect(created.status, await text(created)).toBe(201)
    task = (await created.json()) as Task
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })
  afterAll(async () => {
    await browser?.close()
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()))
    await app?.close()
  })

  it('the printable card, rendered to PNG, carries a QR code that decodes to a card valid offline, with the codes in Dutch and English', async () => {
    const context = await browser!.newContext({ viewport: { width: 800, height: 600 }, javaScriptEnabled: false })
    const page = await context.newPage()
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${await app.tokenFor('dvoEscort')}` })
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    const response = await page.goto(`${base}/fhir/Task/${task.id}/$escort-card?_format=html`)
    expect(response!.status()).toBe(200)
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'")
    expect(response!.headers()['content-security-policy']).not.toContain('script-src')
    expect(requests).toHaveLength(1)
    const words = await page.locator('ul.codes').innerText()
    expect(words).toContain('Medicatie gaat mee')
    expect(words).toContain('Medication accompanies the person')
    const png = await page.screenshot({ type: 'png', fullPage: true })
    await context.close()

    const keys = (await (await app.get('/.well-known/jwks.json')).json()) as JSONWebKeySet
    const verdict = await verifyCard({ png, jwks: keys, issuer: ISSUER, now: app.clock.now() })
    expect(verdict.valid, JSON.stringify(verdict)).toBe(true)
    if (!verdict.valid) return
    expect(verdict.claims.codes.sort()).toEqual(['extra-supervision', 'fit-to-travel=yes', 'medication-accompanies'])
    expect(verdict.words.map((w) => w.nl)).toContain('Medicatie gaat mee')
  })

  it('the verification page, loaded once, opens again and verifies a card with the network gone, and refuses a tampered one', async () => {
    const { token } = await (async () => {
      const res = await app.get(`/fhir/Task/${task.id}/$escort-card`, { as: 'dvoEscort' })
      const p = (await res.json()) as Parameters
      return { token: p.parameter!.find((x) => x.name === 'token')!.valueString! }
    })()
    const context = await browser!.newContext()
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(String(e)))
    const response = await page.goto(`${base}/escort-card/verify`)
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'")
    await page.locator('#keys[data-keys="1"]').waitFor()
    expect(await page.evaluate(() => navigator.serviceWorker.ready.then(() => true))).toBe(true)
    // The network goes; the page opens again from its service worker, with the keys it kept.
    await context.setOffline(true)
    await page.reload()
    await page.locator('#keys[data-keys="1"]').waitFor()
    await page.fill('#token', token)
    await page.click('#check')
    await page.locator('#result[data-verdict]').waitFor()
    expect(await page.locator('#result').getAttribute('data-verdict')).toBe('valid')
    expect(await page.locator('#result ul.codes').innerText()).toContain('Medication accompanies the person')

    const [h, p, s] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, codes: [] })).toString('base64url')}.${s}`
    await page.fill('#token', tampered)
    await page.click('#check')
    await page.locator('#result[data-verdict="signature"]').waitFor()
    expect(await page.locator('#result').innerText()).toContain('The signature does not match')
    expect(errors).toEqual([])
    await context.close()
  })
})
