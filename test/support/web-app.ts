import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Resource } from '@medplum/fhirtypes'
import { expect } from 'vitest'
import { createApp } from '../../src/app.js'
import { DEV_REGISTER_RECORDS } from '../../src/big/file-register.js'
import { SYSTEM } from '../../src/fhir/systems.js'
import { exampleActionFlag, exampleHandoverBundle } from '../../src/perspective/examples.js'
import { DEFAULT_SESSION_ABSOLUTE_MS, DEFAULT_SESSION_IDLE_MS } from '../../src/web/web-settings.js'
import { consentResource, newVNummer } from './fhir-builders.js'
import { BIG_RECORDS } from './people.js'
import { createTestApp, type TestApp, type TestAppOptions } from './test-app.js'

/**
 * The real app with the web application over real HTTP: development sign-in (the real
 * oidc-provider under /dev-idp), the test database and clock. The fictional people of the
 * development register share organisations with the test callers (GZA 90000001, DT&V 90000004, ...),
 * so data made through the API with test tokens is theirs.
 */
export interface WebTestApp {
  t: TestApp
  baseUrl: string
  close(): Promise<void>
}

export async function startWebApp(options: TestAppOptions = {}): Promise<WebTestApp> {
  let fetchApp: ((req: Request, env: unknown) => Response | Promise<Response>) | undefined
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: (req, env) => fetchApp!(req, env), port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  const baseUrl = `http://127.0.0.1:${port}`
  const t = await createTestApp({ records: [...BIG_RECORDS, ...DEV_REGISTER_RECORDS], ...options })
  const web = createApp({ ...t.deps, web: { baseUrl, oidc: 'development', sessionIdleMs: DEFAULT_SESSION_IDLE_MS, sessionAbsoluteMs: DEFAULT_SESSION_ABSOLUTE_MS } })
  fetchApp = (req, env) => web.fetch(req, env)
  return {
    t,
    baseUrl,
    close: async () => {
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await t.close()
    },
  }
}

/** A browser without a browser: cookies by name, redirects followed by hand. */
export class CookieJar {
  readonly cookies = new Map<string, string>()
  constructor(readonly baseUrl: string) {}

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      if (value === '' || /max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, this.baseUrl)
    const headers = new Headers(init.headers)
    if (this.cookies.size) headers.set('cookie', this.header())
    const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    this.take(res)
    return res
  }

  /** GETs and follows redirects (to this service only), returning the last answer. */
  async follow(path: string, init: RequestInit = {}): Promise<Response> {
    let res = await this.fetch(path, init)
    for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i++) {
      const location = res.headers.get('location')!
      res = await this.fetch(new URL(location, new URL(path, this.baseUrl)).href)
    }
    return res
  }

  /** Posts a form (urlencoded) and follows the redirects. */
  async postForm(path: string, fields: Record<string, string>): Promise<Response> {
    const res = await this.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })
    if (res.status >= 300 && res.status < 400) return this.follow(new URL(res.headers.get('location')!, this.baseUrl).href)
    return res
  }

  /** The real sign-in through the development OpenID provider, as the fictional person `sub`. */
  async signIn(sub: string): Promise<Response> {
    let res = await this.fetch('/auth/sign-in')
    expect(res.status, await res.clone().text()).toBe(303)
    res = await this.fetch(res.headers.get('location')!)
    expect(res.status, await res.clone().text()).toBe(303)
    const interaction = new URL(res.headers.get('location')!, this.baseUrl)
    // Still signed in at the provider (single sign-on): straight back to the service.
    if (!interaction.pathname.startsWith('/dev-idp/interaction/')) return this.follow(interaction.href)
    res = await this.fetch(interaction.href)
    expect(res.status, await res.clone().text()).toBe(200)
    return this.postForm(`${interaction.pathname}/login`, { sub })
  }

  csrfOf(html: string): string {
    return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? ''
  }
}

export const text = (res: Response) => res.clone().text()

/** Posts a multipart form (with files, as a browser does for a file input); redirects not followed. */
export async function postMultipart(j: CookieJar, path: string, fields: Record<string, string | string[]>, files: Record<string, { data: Buffer; type: string; name: string }> = {}) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) form.append(k, one)
  for (const [k, f] of Object.entries(files)) form.append(k, new Blob([new Uint8Array(f.data)], { type: f.type }), f.name)
  return j.fetch(path, { method: 'POST', body: form })
}

/**
 * A patient of the test GZA with consent and a dossier that holds a canary in every free-text
 * field, and action flags a regievoerder and an escort may see.
 */
export async function patientWithDossier(t: TestApp, canary: string) {
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(consent.status, await text(consent)).toBe(201)
  const consentToken = consent.headers.get('x-consent-token')!
  const resources: Resource[] = [
    exampleActionFlag('medical-escort-required'),
    exampleActionFlag('extra-supervision', { legalGround: 'legal-obligation' }),
    exampleActionFlag('contact-medical-service'),
    {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      subject: { reference: 'urn:uuid:0b7c2a9e-1d4f-4c1a-9a57-3e2f5d6c0001' },
      code: { text: `${canary}-diagnosis` },
    } as Resource,
    {
      resourceType: 'MedicationStatement',
      status: 'active',
      subject: { reference: 'urn:uuid:0b7c2a9e-1d4f-4c1a-9a57-3e2f5d6c0001' },
      medicationCodeableConcept: { text: `${canary}-medication` },
      dosage: [{ text: `${canary}-dosage` }],
    } as Resource,
    {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      patient: { reference: 'urn:uuid:0b7c2a9e-1d4f-4c1a-9a57-3e2f5d6c0001' },
      code: { text: `${canary}-allergy` },
      criticality: 'high',
    } as Resource,
  ]
  const bundle = exampleHandoverBundle(vNummer, resources)
  ;(bundle.entry![0]!.resource as unknown as Record<string, unknown>).name = [{ family: `${canary}-family`, given: ['Test'] }]
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
  expect(upload.status, await text(upload)).toBe(201)
  const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
  const patientId = ((await search.json()) as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id
  return { vNummer, consentToken, patientId }
}
