import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bundle } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { ensureDevIdentity, mintDevCallerToken } from '../src/http/dev-identity.js'
import { consentResource, handoverBundle, newVNummer } from './support/fhir-builders.js'

/*
 * The Prometheus endpoint of the service as an operator runs it: its own listener, a scrape token,
 * a scripted scenario over HTTP, then the exposition read back. It counts what happened, and holds
 * no identifier of the scenario.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'overdracht-metrics-'))
const METRICS_TOKEN = 'scrape-token-0123456789abcdef'

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

let service: ChildProcess
let output = ''
let base = ''
let metricsUrl = ''

beforeAll(async () => {
  const [port, metricsPort] = [await freePort(), await freePort()]
  service = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: {
      ...process.env,
      OVERDRACHT_DATA_DIR: dataDir,
      PORT: String(port),
      OVERDRACHT_METRICS_PORT: String(metricsPort),
      OVERDRACHT_METRICS_TOKEN: METRICS_TOKEN,
      OVERDRACHT_VALIDATION_THREADS: '0',
      OVERDRACHT_LOG_LEVEL: 'warn',
      DATABASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  service.stdout!.on('data', (d) => (output += d))
  service.stderr!.on('data', (d) => (output += d))
  base = `http://127.0.0.1:${port}`
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
  for (let i = 0; ; i++) {
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break
    if (i > 240 || service.exitCode !== null) throw new Error(`the service did not start:\n${output}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}, 90_000)

afterAll(async () => {
  if (service && service.exitCode === null) {
    service.kill('SIGTERM')
    await new Promise((r) => service.once('exit', r))
  }
  rmSync(dataDir, { recursive: true, force: true })
})

/** The value of one series, by its exact label set as Prometheus writes it. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('metrics', () => {
  it('after a scripted handover the exposition counts its requests, decisions, BIG lookups, audit commits and the emergency access, with no identifier in it; promtool accepts it', async () => {
    const identity = await ensureDevIdentity(dataDir)
    const gza = await mintDevCallerToken(identity, { sub: 'gza-doctor-sub', name: 'Dr. A. Fictief-Gza', org: '90000001', org_type: 'gza', role: 'caregiver', big: '90000000101' })
    const nurse = await mintDevCallerToken(identity, { sub: 'escort-nurse-sub', name: 'C. Fictief-Escorte', org: '90000003', org_type: 'medical-escort', role: 'caregiver', big: '09000000330' })
    const dtv = await mintDevCallerToken(identity, { sub: 'regie-sub', name: 'R. Regie', org: '90000004', org_type: 'dtv', role: 'regievoerder' })
    const call = async (path: string, token: string, init: RequestInit = {}) => {
      const res = await fetch(`${base}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...(init.headers as Record<string, string>) },
      })
      return { status: res.status, headers: res.headers, text: await res.text() }
    }

    const vNummer = newVNummer()
    const consent = await call('/fhir/Consent', gza, { method: 'POST', body: JSON.stringify(consentResource({ vNummer })) })
    expect(consent.status, consent.text).toBe(201)
    const consentToken = consent.headers.get('x-consent-token')!
    const consentId = JSON.parse(consent.text).id as string
    const upload = await call('/fhir/Bundle', gza, { method: 'POST', body: JSON.stringify(handoverBundle(vNummer)) })
    expect(upload.status, upload.text).toBe(201)
    const bundleId = JSON.parse(upload.text).id as string
    const search = await call(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, gza)
    expect(search.status, search.text).toBe(200)
    const patientId = (JSON.parse(search.text) as Bundle).entry![0]!.resource!.id!

    const read = await call(`/fhir/Patient/${patientId}/$handover`, nurse, { headers: { 'x-consent-token': consentToken } })
    expect(read.status, read.text).toBe(200)
    const refused = await call(`/fhir/Patient/${patientId}/$handover`, dtv, { headers: { 'x-consent-token': consentToken } })
    expect(refused.status, refused.text).toBe(404)
    const emergency = await call(`/fhir/Patient/${patientId}/$handover`, nurse, {
      headers: { 'x-emergency-reason': 'Patient collapsed at the gate, allergies needed now' },
    })
    expect(emergency.status, emergency.text).toBe(200)
    const unauthenticated = await fetch(`${base}/fhir/Patient/${patientId}`)
    expect(unauthenticated.status).toBe(401)

    // The scrape needs its token; the API's port does not serve it.
    expect((await fetch(metricsUrl)).status).toBe(401)
    expect((await fetch(metricsUrl, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401)
    expect((await fetch(`${base}/metrics`)).status).not.toBe(200)
    const scrape = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    const text = await scrape.text()
    expect(scrape.status, text).toBe(200)
    expect(scrape.headers.get('content-type')).toContain('text/plain')

    const requests = (method: string, route: string, status: number) =>
      sample(text, `overdracht_http_requests_total{method="${method}",route="${route}",status="${status}"}`)
    expect(requests('POST', '/fhir/Consent', 201), text).toBe(1)
    expect(requests('POST', '/fhir/Bundle', 201), text).toBe(1)
    expect(requests('GET', '/fhir/Patient', 200), text).toBe(1)
    expect(requests('GET', '/fhir/Patient/:id/$handover', 200), text).toBe(2)
    expect(requests('GET', '/fhir/Patient/:id/$handover', 404), text).toBe(1)
    // Refused by the authentication in front of every FHIR route: counted under its pattern.
    expect(requests('GET', '/fhir/*', 401), text).toBe(1)
    expect(requests('GET', 'unmatched', 404), text).toBe(1)
    expect(sample(text, 'overdracht_http_request_duration_seconds_count{method="POST",route="/fhir/Bundle",status="201"}'), text).toBe(1)
    expect(sample(text, 'overdracht_http_requests_in_flight'), text).toBe(0)

    const decisions = (action: string, effect: string, reason: string) =>
      sample(text, `overdracht_access_decisions_total{action="${action}",effect="${effect}",reason="${reason}"}`)
    expect(decisions('consent.record', 'permit', 'permit-custodian-consent') ?? decisions('consent.record', 'permit', 'permit-caregiver'), text).toBe(1)
    expect(decisions('dossier.read', 'permit', 'permit-consent'), text).toBe(1)
    expect(decisions('dossier.read', 'permit', 'permit-emergency'), text).toBe(1)
    const denials = text.split('\n').filter((l) => l.startsWith('overdracht_access_decisions_total{action="dossier.read",effect="deny"'))
    expect(denials.reduce((n, l) => n + Number(l.split(' ').pop()), 0), text).toBe(1)
    expect(sample(text, 'overdracht_emergency_access_opened_total'), text).toBe(1)
    expect(sample(text, 'overdracht_emergency_reviews_open'), text).toBe(1)

    // Two caregivers: each asked the register once, then answered from the cache.
    expect(sample(text, 'overdracht_big_cache_lookups_total{result="miss"}'), text).toBe(2)
    expect(sample(text, 'overdracht_big_cache_lookups_total{result="hit"}'), text).toBeGreaterThanOrEqual(3)
    expect(sample(text, 'overdracht_big_register_calls_total{outcome="answered"}'), text).toBe(2)
    expect(sample(text, 'overdracht_big_register_calls_total{outcome="failed"}'), text).toBe(0)
    expect(sample(text, 'overdracht_audit_group_commit_entries_count'), text).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'overdracht_audit_group_commit_seconds_count{outcome="committed"}'), text).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'overdracht_retention_runs_total{outcome="failed"}'), text).toBe(0)
    expect(text).toContain('overdracht_process_resident_memory_bytes')
    expect(text).toContain('overdracht_nodejs_eventloop_lag_seconds')

    // Nothing of the scenario's people, patient or documents.
    const identifiers = [vNummer, patientId, consentId, bundleId, consentToken, gza, nurse, '90000000101', '09000000330', '90000001', '90000003', '90000004', 'gza-doctor-sub', 'escort-nurse-sub', 'regie-sub', 'Fictief', 'Regie', 'Testpersoon', 'collapsed']
    // Sample values are numbers a duration can spell by chance (0.0900000012): the names, labels and help texts are checked.
    const withoutValues = text.split('\n').map((l) => (l.startsWith('#') ? l : l.replace(/ [^ ]+$/, ''))).join('\n')
    for (const id of identifiers) expect(withoutValues.includes(id), `the exposition holds ${id.slice(0, 24)}:\n${withoutValues.split("\n").filter((l) => l.includes(id)).join("\n")}`).toBe(false)

    // Debian's promtool (package prometheus), where it is installed: CI installs it.
    const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' })
    if (promtool.error) {
      if (process.env.CI) throw new Error('promtool is missing; .ci/run installs the Debian package prometheus')
      return
    }
    const file = join(dataDir, 'exposition.txt')
    writeFileSync(file, text)
    const check = spawnSync('sh', ['-c', `promtool check metrics < "${file}"`], { encoding: 'utf8' })
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0)
  }, 60_000)
})

describe('metrics of the database pool', () => {
  it('on a PostgreSQL server the pool reports its total, idle and waiting clients; embedded PostgreSQL has no pool to report', async () => {
    const { createTestApp } = await import('./support/test-app.js')
    const t = await createTestApp()
    try {
      const res = await t.get('/readyz')
      expect(res.status, await res.text()).toBe(200)
      const text = await t.deps.metrics.registry.metrics()
      if (process.env.TEST_DATABASE_URL) {
        expect(sample(text, 'overdracht_db_pool_clients{state="total"}'), text).toBeGreaterThanOrEqual(1)
        expect(sample(text, 'overdracht_db_pool_clients{state="waiting"}'), text).toBe(0)
        expect(sample(text, 'overdracht_db_pool_clients{state="idle"}'), text).toBeGreaterThanOrEqual(0)
      } else {
        expect(text).not.toContain('overdracht_db_pool_clients{')
      }
      expect(sample(text, 'overdracht_http_requests_total{method="GET",route="/readyz",status="200"}'), text).toBe(1)
    } finally {
      await t.close()
    }
  })
})
