/**
 * Page speed of the web application: the caregiver's home page (inbox, outbox, handovers at risk),
 * the patient search, the patient page and a task page, each timed over BENCH_ITERATIONS
 * sequential GETs with a signed-in session. The session row is made directly through the session
 * repository (as the sign-in callback makes it), so the timing is the page's, not the provider's.
 * Data: BENCH_PATIENTS patients of the development GZA, each with a consent, a dossier and a
 * transfer to the DJI, made through the API. Embedded PostgreSQL in a temporary folder, or the
 * PostgreSQL server database in DATABASE_URL (migrated here; use a scratch database).
 * Prints p50 and p99 in milliseconds. Run on a quiet machine:
 *   npx tsx bench/pages.ts          (BENCH_PATIENTS=200 BENCH_ITERATIONS=200; BENCH_PORT, else any free port)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { serve } from '@hono/node-server'
import pino from 'pino'
import { createApp } from '../src/app.js'
import { buildDeps } from '../src/bootstrap.js'
import { systemClock } from '../src/clock.js'
import { loadConfig } from '../src/config.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { ensureDevIdentity, mintDevCallerToken } from '../src/http/dev-identity.js'
import { exampleActionFlag, exampleHandoverBundle } from '../src/perspective/examples.js'
import { consentFromForm } from '../src/web/caregiver.js'
import { findDevPerson } from '../src/web/dev-people.js'
import { hashSessionId, newSecret } from '../src/web/session.js'
import { insertWebSession } from '../src/web/session.repository.js'
import { DEFAULT_SESSION_ABSOLUTE_MS, DEFAULT_SESSION_IDLE_MS } from '../src/web/web-settings.js'

const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 200)
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200)

const dir = mkdtempSync(join(tmpdir(), 'overdracht-pages-bench-'))
const server_ = process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL, OVERDRACHT_DEVELOPMENT_MODE: '1' } : {}
const config = loadConfig({ OVERDRACHT_DATA_DIR: dir, OVERDRACHT_VALIDATION_THREADS: '0', OVERDRACHT_LOG_LEVEL: 'warn', ...server_ })
const deps = await buildDeps(config, pino({ level: 'warn' }), systemClock)
let fetchApp: (req: Request) => Response | Promise<Response> = () => new Response(null, { status: 503 })
const server = serve({ fetch: (req) => fetchApp(req), port: Number(process.env.BENCH_PORT ?? 0), hostname: '127.0.0.1' })
await new Promise((r) => server.once('listening', r))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const app = createApp({ ...deps, web: { baseUrl: base, oidc: 'development', sessionIdleMs: DEFAULT_SESSION_IDLE_MS, sessionAbsoluteMs: DEFAULT_SESSION_ABSOLUTE_MS } })
fetchApp = (req) => app.fetch(req)

const identity = await ensureDevIdentity(dir)
const gza = findDevPerson('dev-gza-arts')!
const api = await mintDevCallerToken(identity, { sub: gza.sub, name: gza.name, org: gza.org, org_type: gza.org_type, role: gza.role, big: gza.big })
const post = async (path: string, body: unknown) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${api}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) })
  if (res.status !== 201) throw new Error(`${path}: ${res.status}`)
  return (await res.json()) as { id: string }
}

const PDF = Buffer.from('%PDF-1.4\n% bench\n%%EOF\n')
const vNummers: string[] = []
let taskId = ''
for (let i = 0; i < PATIENTS; i++) {
  const vNummer = `V${String(900000000 + i)}`
  vNummers.push(vNummer)
  await post('/fhir/Consent', consentFromForm({ vNummer, org: gza.org, refused: false, formVersion: '2026-01', formLanguage: 'nl', handover: ['dji-medical', 'medical-escort'], perspective: ['dtv'], scan: { contentType: 'application/pdf', data: PDF }, now: new Date() }))
  await post('/fhir/Bundle', exampleHandoverBundle(vNummer, [exampleActionFlag('medical-escort-required')]))
  const start = new Date(Date.now() + (i % 10) * 24 * 3600_000).toISOString().slice(0, 10)
  taskId = (
    await post('/fhir/Task', {
      resourceType: 'Task', status: 'requested', intent: 'order',
      code: { coding: [{ system: SYSTEM.taskCode, code: 'transfer' }] },
      for: { identifier: { system: SYSTEM.vNummer, value: vNummer } },
      requester: { identifier: { system: SYSTEM.ura, value: gza.org } },
      owner: { identifier: { system: SYSTEM.ura, value: '90000002' } },
      executionPeriod: { start },
    })
  ).id
}

// A session as the sign-in callback stores it (the principal without its access point).
const sessionId = newSecret()
const now = new Date()
await insertWebSession(deps.db, {
  id_hash: hashSessionId(sessionId),
  kind: 'session',
  principal: JSON.stringify({ sub: gza.sub, name: gza.name, org: gza.org, orgType: gza.org_type, role: gza.role, big: gza.big, issuer: `${base}/dev-idp` }),
  csrf_token: newSecret(),
  login: null,
  id_token: null,
  created_at: now,
  last_seen_at: now,
  expires_at: new Date(now.getTime() + DEFAULT_SESSION_ABSOLUTE_MS),
})
const cookie = `overdracht-session=${sessionId}`
const search = await (await fetch(`${base}/app/patients?kind=v-nummer&value=${vNummers[0]}`, { headers: { cookie } })).text()
const patientPath = /href="(\/app\/patients\/[^"?]+)\?/.exec(search)?.[1]
if (!patientPath) throw new Error('the patient search found no patient')

const pages: [string, string][] = [
  ['home (inbox, outbox, at risk)', '/'],
  ['patient search', `/app/patients?kind=v-nummer&value=${vNummers[vNummers.length - 1]}`],
  ['patient page', patientPath],
  ['task page', `/app/tasks/${taskId}`],
]
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
console.log(`${PATIENTS} patients, ${ITERATIONS} GETs per page, ${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PostgreSQL (PGlite)'}`)
for (const [name, path] of pages) {
  const times: number[] = []
  for (let i = 0; i < ITERATIONS + 10; i++) {
    const t0 = performance.now()
    const res = await fetch(`${base}${path}`, { headers: { cookie } })
    await res.text()
    if (res.status !== 200) throw new Error(`${name}: ${res.status}`)
    if (i >= 10) times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  console.log(`${name.padEnd(32)} p50 ${pct(times, 50).toFixed(1)} ms  p99 ${pct(times, 99).toFixed(1)} ms`)
}

server.close()
await deps.validator.close()
await deps.db.destroy()
rmSync(dir, { recursive: true, force: true })
