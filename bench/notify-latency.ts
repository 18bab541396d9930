/**
 * Notification latency: from a change (a departure announced over HTTP) to its notification
 * arriving at a receiver's endpoint on the loopback, with the dispatcher running as in the server
 * (polling every OVERDRACHT_NOTIFY_POLL_MS, default 500 ms) and BENCH_CONCURRENCY announcements in
 * flight at once keeping it busy. Embedded PostgreSQL in a temporary folder, or the PostgreSQL server
 * database in DATABASE_URL (migrated here; use a scratch database), development mode.
 * Prints p50, p90, p99 and max in milliseconds. Run on a quiet machine:
 *   npx tsx bench/notify-latency.ts          (BENCH_TASKS=300 BENCH_CONCURRENCY=4)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
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
import { ensureDevIdentity, mintDevCallerToken } from '../src/http/dev-identity.js'
import { createDispatcher } from '../src/notifications/dispatcher.js'

const TASKS = Number(process.env.BENCH_TASKS ?? 300)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4)
const POLL_MS = Number(process.env.OVERDRACHT_NOTIFY_POLL_MS ?? 500)

const dir = mkdtempSync(join(tmpdir(), 'overdracht-notify-bench-'))
// DATABASE_URL (a scratch database on a PostgreSQL server) instead of the embedded one, as in production.
const server_ = process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL, OVERDRACHT_DEVELOPMENT_MODE: '1' } : {}
const config = loadConfig({ OVERDRACHT_DATA_DIR: dir, OVERDRACHT_VALIDATION_THREADS: '0', OVERDRACHT_NOTIFY_ALLOW_HOSTS: '127.0.0.1', OVERDRACHT_LOG_LEVEL: 'warn', ...server_ })
const deps = await buildDeps(config, pino({ level: 'warn' }), systemClock)
deps.settings.notify = { ...deps.settings.notify, pollMs: POLL_MS }
const app = createApp(deps)
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
await new Promise((r) => server.once('listening', r))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const arrived = new Map<string, number>()
const receiver = createServer((req, res) => {
  let body = ''
  req.on('data', (d) => (body += d))
  req.on('end', () => {
    const task = (JSON.parse(body) as { task: string }).task.split('/').pop()!
    if (!arrived.has(task)) arrived.set(task, performance.now())
    res.end()
  })
}).listen(0, '127.0.0.1')
await new Promise((r) => receiver.once('listening', r))
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`

const identity = await ensureDevIdentity(dir)
const dtv = await mintDevCallerToken(identity, { sub: 'bench-dtv', name: 'Bench', org: '90000004', org_type: 'dtv', role: 'regievoerder' })
const dvo = await mintDevCallerToken(identity, { sub: 'bench-dvo', name: 'Bench', org: '90000005', org_type: 'dvo', role: 'escort' })
const post = (path: string, token: string, body: unknown) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) })

const sub = await post('/fhir/Subscription', dvo, { resourceType: 'Subscription', status: 'requested', reason: 'bench', criteria: 'Task?owner=90000005', channel: { type: 'rest-hook', endpoint } })
if (sub.status !== 201) throw new Error(`subscription: ${sub.status} ${await sub.text()}`)
const dispatcher = createDispatcher(deps)
dispatcher.start()

const started = new Map<string, number>()
let next = 0
async function worker() {
  while (next < TASKS) {
    const i = next++
    const t0 = performance.now()
    const res = await post('/fhir/Task', dtv, {
      resourceType: 'Task', status: 'requested', intent: 'order',
      code: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-code', code: 'departure' }] },
      for: { identifier: { system: 'https://overdracht.nl/fhir/NamingSystem/v-nummer', value: `VB${String(i).padStart(9, '0')}` } },
      requester: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000004' } },
      owner: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000005' } },
      executionPeriod: { start: new Date(Date.now() + 3 * 86_400_000).toISOString() },
    })
    if (res.status !== 201) throw new Error(`task: ${res.status} ${await res.text()}`)
    started.set(((await res.json()) as { id: string }).id, t0)
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker))
const deadline = Date.now() + 60_000
while (arrived.size < TASKS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))

const latencies = [...started].map(([id, t0]) => (arrived.get(id) ?? Number.NaN) - t0).filter(Number.isFinite).sort((a, b) => a - b)
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(0)
process.stdout.write(
  `notifications: ${latencies.length} of ${TASKS} delivered; change -> receiver (ms): p50 ${q(0.5)}, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${q(1)} ` +
    `(poll ${POLL_MS} ms, ${CONCURRENCY} announcements in flight, ${process.env.DATABASE_URL ? "PostgreSQL server" : "embedded PostgreSQL"})\n`,
)
await dispatcher.stop()
receiver.close()
server.close()
await deps.validator.close()
await deps.db.destroy()
rmSync(dir, { recursive: true, force: true })
