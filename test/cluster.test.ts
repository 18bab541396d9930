import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveAuditKey } from '../src/audit/audit-chain.js'
import { verifyAuditChain } from '../src/audit/audit-verify.js'
import { openDatabase } from '../src/db/database.js'
import { ensureDevIdentity, ensureDevMasterKey, mintDevCallerToken } from '../src/http/dev-identity.js'
import { parseMasterKey } from '../src/patient/envelope.js'
import { consentResource, handoverBundle, newVNummer } from './support/fhir-builders.js'
import { descendantsOf } from './support/processes.js'
import { freePort } from './support/private-postgres.js'
import { startServiceProcess, type ServiceProcess } from './support/service-process.js'
import { usingServer } from './support/test-db.js'

/*
 * OVERDRACHT_WORKERS=2: two service processes on one port, started by a primary that serves no
 * requests. Observed from outside, as an operator would: the processes, answers from both, the
 * metrics of both on one listener, a process that dies replaced, the audit chain intact under
 * writes from both, and SIGTERM stopping everything with exit code 0. Needs a PostgreSQL server
 * (the embedded database lives in one process): it runs in the server run of the suite.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const serviceProcesses = (primary: number) =>
  descendantsOf(primary).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('src/server.ts')
    } catch {
      return false
    }
  })

describe.skipIf(!usingServer())('several service processes on one port (OVERDRACHT_WORKERS=2)', () => {
  let service: ServiceProcess
  let admin: Kysely<unknown>
  let url = ''
  let metricsPort = 0
  const name = `overdracht_cluster_${randomBytes(6).toString('hex')}`

  beforeAll(async () => {
    admin = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 1 }) }) })
    await sql`create database ${sql.id(name)}`.execute(admin)
    const u = new URL(process.env.TEST_DATABASE_URL!)
    u.pathname = `/${name}`
    url = u.toString()
    metricsPort = await freePort()
    service = await startServiceProcess(url, { OVERDRACHT_WORKERS: '2', OVERDRACHT_METRICS_PORT: String(metricsPort), OVERDRACHT_LOG_LEVEL: 'info' })
  }, 180_000)

  afterAll(async () => {
    await service?.dispose()
    await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin)
    await admin.destroy()
  })

  it('the primary runs two service processes, and both answer requests on the one port', async () => {
    await expect.poll(() => serviceProcesses(service.child.pid!).length, { timeout: 60_000 }).toBe(2)
    // Both report 'listening' on the same port, each under its own worker number.
    await expect.poll(() => [...service.output().matchAll(/"worker":(\d)[^\n]*"msg":"listening"/g)].map((m) => m[1]).sort().join(','), { timeout: 60_000 }).toBe('0,1')
    const identity = await ensureDevIdentity(service.dataDir)
    const gza = await mintDevCallerToken(identity, { sub: 'gza-1', name: 'Dr. A. Fictief-Gza', org: '90000001', org_type: 'gza', role: 'caregiver', big: '90000000101' })
    const nurse = await mintDevCallerToken(identity, { sub: 'escort-1', name: 'C. Fictief-Escorte', org: '90000003', org_type: 'medical-escort', role: 'caregiver', big: '09000000330' })
    // Writes from both processes at once: consents, dossiers, permitted reads, each audited.
    const one = async () => {
      const vNummer = newVNummer()
      const headers = { authorization: `Bearer ${gza}`, 'content-type': 'application/fhir+json', connection: 'close' }
      const consent = await fetch(`${service.base}/fhir/Consent`, { method: 'POST', headers, body: JSON.stringify(consentResource({ vNummer })) })
      expect(consent.status, await consent.clone().text()).toBe(201)
      const token = consent.headers.get('x-consent-token')!
      const bundle = await fetch(`${service.base}/fhir/Bundle`, { method: 'POST', headers, body: JSON.stringify(handoverBundle(vNummer)) })
      expect(bundle.status, await bundle.clone().text()).toBe(201)
      const bundleId = ((await bundle.json()) as { id: string }).id
      const read = await fetch(`${service.base}/fhir/Bundle/${bundleId}`, { headers: { authorization: `Bearer ${nurse}`, 'x-consent-token': token, connection: 'close' } })
      expect(read.status, await read.clone().text()).toBe(200)
    }
    await Promise.all(Array.from({ length: 12 }, one))
    // The metrics listener of the primary sums the requests of both processes.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    const requests = [...metrics.matchAll(/^overdracht_http_requests_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0)
    expect(requests, metrics.slice(0, 2000)).toBeGreaterThanOrEqual(36)
    // The audit chain holds under group commits of two processes.
    const db = await openDatabase({ kind: 'server', url, poolSize: 1 })
    try {
      const key = deriveAuditKey(parseMasterKey(await ensureDevMasterKey(service.dataDir)).key)
      const verdict = await verifyAuditChain(db, key)
      expect(verdict, JSON.stringify(verdict)).toMatchObject({ ok: true })
    } finally {
      await db.destroy()
    }
  }, 120_000)

  it('a service process that dies is replaced, and the service answers meanwhile', async () => {
    const before = serviceProcesses(service.child.pid!)
    expect(before).toHaveLength(2)
    process.kill(before[0]!, 'SIGKILL')
    const statuses: number[] = []
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      const res = await fetch(`${service.base}/fhir/metadata`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(3_000) }).catch(() => undefined)
      statuses.push(res?.status ?? 0)
      const now = serviceProcesses(service.child.pid!)
      if (now.length === 2 && !now.includes(before[0]!) && /"msg":"service process ended; starting another"/.test(service.output())) break
      await sleep(100)
    }
    // The new process is serving when it reports 'listening' (the third such line).
    await expect.poll(() => [...service.output().matchAll(/"msg":"listening"/g)].length, { timeout: 45_000, message: service.log() }).toBe(3)
    const after = serviceProcesses(service.child.pid!)
    expect(after, service.log()).toHaveLength(2)
    expect(after).not.toContain(before[0])
    // At most the connection that was open on the killed process fails; the other process serves.
    expect(statuses.filter((s) => s !== 200).length, statuses.join(',')).toBeLessThanOrEqual(1)
    expect(service.alive()).toBe(true)
  }, 120_000)

  it('SIGTERM to the primary stops every process with exit code 0', async () => {
    await expect.poll(() => fetch(`${service.base}/readyz`).then((r) => r.status, () => 0), { timeout: 60_000 }).toBe(200)
    const pid = service.child.pid!
    service.child.kill('SIGTERM')
    const exit = await service.exited()
    expect(exit, service.log()).toEqual({ code: 0, signal: null })
    expect(serviceProcesses(pid)).toEqual([])
    // The one error line is the killed process of the test above; shutting down adds none.
    const errors = service.output().split('\n').filter((line) => line.includes('"level":50'))
    expect(errors.map((line) => /"msg":"([^"]*)"/.exec(line)?.[1])).toEqual(['service process ended; starting another'])
  }, 60_000)
})
