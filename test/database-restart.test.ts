import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveAuditKey } from '../src/audit/audit-chain.js'
import { verifyAuditChain } from '../src/audit/audit-verify.js'
import { openDatabase } from '../src/db/database.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { ensureDevIdentity, ensureDevMasterKey, mintDevCallerToken } from '../src/http/dev-identity.js'
import { parseMasterKey } from '../src/patient/envelope.js'
import { consentResource, handoverBundle, newVNummer } from './support/fhir-builders.js'
import { freePort, privateClusterUnavailableReason, startPrivateCluster, type PrivateCluster } from './support/private-postgres.js'
import { startServiceProcess } from './support/service-process.js'
import { usingServer } from './support/test-db.js'

/*
 * The PostgreSQL server itself goes away and comes back while requests run: `pg_ctl stop`
 * (alternately -m fast, which terminates every backend with "terminating connection due to
 * administrator command", and -m immediate, which kills them), a pause, `pg_ctl start`. The
 * service runs as its own process (`node --import tsx src/server.ts`), so "the process stays
 * alive" is observed from outside, as an orchestrator would.
 *
 * Once, such a restart ended the process: the error arrived as an 'error' event on a pg client
 * that a request had checked out, and nothing listened. To make that window certain rather than
 * likely, before each stop the test holds the audit chain's advisory lock from a connection of its
 * own until service backends queue behind it: at the moment the server stops, those requests have
 * a client checked out with a statement running on it. Requests that are between statements (a
 * checked-out client with no statement running) come from the load itself.
 *
 * Two slower ways for a database to fail follow, where only the timeouts can end a request: the
 * chain lock held by another session for several statement timeouts (as by a stuck writer of
 * another instance), and a server that is frozen (SIGSTOP: its sockets stay open, it answers
 * nothing, so its own statement_timeout never fires, as with a hung host or a network that drops
 * packets).
 *
 * The test makes its own cluster with initdb (it must stop it); it runs in the server run of the
 * suite (TEST_DATABASE_URL set) and never touches that server.
 */

const CONNECT_TIMEOUT_MS = 1_000
const STATEMENT_TIMEOUT_MS = 2_000
/** Scheduling on a busy 2-core machine, request body handling, the statements that did succeed. */
const MARGIN_MS = 1_500
/**
 * The longest any request may take: a connection wait, and a statement that runs into the
 * statement timeout, twice: an audit entry written by group commit may first wait for the group
 * ahead of it, then for its own (src/audit/audit.repository.ts, ChainWriter).
 */
const MAX_REQUEST_MS = CONNECT_TIMEOUT_MS + 2 * STATEMENT_TIMEOUT_MS + MARGIN_MS
const CYCLES = 6
/** The cycle (0-based) whose chain lock is held past the statement timeout before the stop, and for how long. */
const STATEMENT_TIMEOUT_CYCLE = 2
const STATEMENT_TIMEOUT_HOLD_MS = STATEMENT_TIMEOUT_MS + 1_500
const WORKERS = 6
/** What "200s again within seconds" means here. */
const MAX_RECOVERY_MS = 5_000
/** The chain lock of src/audit/audit.repository.ts (CHAIN_LOCK). */
const CHAIN_LOCK = 7513

const skipReason = !usingServer()
  ? 'TEST_DATABASE_URL is not set: only the server run of the suite stops and starts a PostgreSQL server of its own'
  : privateClusterUnavailableReason()

type Kind = 'consent' | 'upload' | 'read' | 'search' | 'readyz' | 'metadata' | 'healthz'
/** Routes that never touch the database: 200 whatever the database does. */
const WITHOUT_DATABASE: ReadonlySet<Kind> = new Set(['metadata', 'healthz'])
const SUCCESS: Record<Kind, number> = { consent: 201, upload: 201, read: 200, search: 200, readyz: 200, metadata: 200, healthz: 200 }
/** The audit entry a successful answer of each kind must have (event_type, outcome permit). */
const AUDITED: Partial<Record<Kind, string>> = { consent: 'consent.record', upload: 'dossier.upload', read: 'dossier.read', search: 'patient.search' }

interface Answer {
  kind: Kind
  worker: number
  requestId: string
  /** performance.now() of the test process. */
  start: number
  end: number
  /** 0: no HTTP answer at all (connection reset, refused, or the test's own abort). */
  status: number
  contentType: string | null
  retryAfter: string | null
  /** A 503 whose body is an OperationOutcome with a `transient` issue. */
  transientOutcome: boolean
  /** Of an unexpected answer; of a 201 consent, its X-Consent-Token. */
  body: string
  bundleId?: string
  error?: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const ms = (n: number) => `${Math.round(n)} ms`
const isDb = (a: Answer) => !WITHOUT_DATABASE.has(a.kind)
const ok = (a: Answer) => a.status === SUCCESS[a.kind]
const count = (list: Answer[], pred: (a: Answer) => boolean) => list.filter(pred).length
const byStatus = (list: Answer[]) => {
  const m = new Map<string, number>()
  for (const a of list) m.set(String(a.status || 'none'), (m.get(String(a.status || 'none')) ?? 0) + 1)
  return [...m].sort().map(([s, n]) => `${s}: ${n}`).join(', ') || 'none'
}

const startService = (databaseUrl: string) =>
  startServiceProcess(databaseUrl, {
    OVERDRACHT_DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    OVERDRACHT_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  })
type Service = Awaited<ReturnType<typeof startService>>

/** Callers, a recorder of every answer, and the load: WORKERS loops of mixed requests. */
async function loadOn(service: Service) {
  const identity = await ensureDevIdentity(service.dataDir)
  // The GZA doctor and the escort nurse of the README walkthrough (the development BIG register confirms both).
  const gza = await mintDevCallerToken(identity, { sub: 'gza-1', name: 'Dr. A. Fictief-Gza', org: '90000001', org_type: 'gza', role: 'caregiver', big: '90000000101' })
  const nurse = await mintDevCallerToken(identity, { sub: 'escort-1', name: 'C. Fictief-Escorte', org: '90000003', org_type: 'medical-escort', role: 'caregiver', big: '09000000330' })
  const answers: Answer[] = []
  const t0 = performance.now()

  const call = async (kind: Kind, worker: number, path: string, init: { method?: string; token?: string; consentToken?: string; body?: unknown } = {}) => {
    const requestId = randomUUID()
    const headers: Record<string, string> = { 'x-request-id': requestId }
    if (init.token) headers.authorization = `Bearer ${init.token}`
    if (init.consentToken) headers['x-consent-token'] = init.consentToken
    if (init.body !== undefined) headers['content-type'] = 'application/fhir+json'
    const start = performance.now()
    const answer: Answer = { kind, worker, requestId, start, end: start, status: 0, contentType: null, retryAfter: null, transientOutcome: false, body: '' }
    try {
      const res = await fetch(service.base + path, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        // Only so that a hung request cannot hang the test; it is reported as too slow.
        signal: AbortSignal.timeout(MAX_REQUEST_MS + 20_000),
      })
      const text = await res.text()
      answer.end = performance.now()
      answer.status = res.status
      answer.contentType = res.headers.get('content-type')
      answer.retryAfter = res.headers.get('retry-after')
      if (res.status !== SUCCESS[kind]) answer.body = text.slice(0, 600)
      if (res.status === 503) {
        try {
          const outcome = JSON.parse(text) as { resourceType?: string; issue?: { code?: string }[] }
          answer.transientOutcome = outcome.resourceType === 'OperationOutcome' && outcome.issue?.[0]?.code === 'transient'
        } catch {
          answer.transientOutcome = false
        }
      }
      if (kind === 'upload' && res.status === 201) answer.bundleId = /\/fhir\/Bundle\/([^/]+)\//.exec(res.headers.get('location') ?? '')?.[1]
      if (kind === 'consent' && res.status === 201) answer.body = res.headers.get('x-consent-token') ?? ''
    } catch (err) {
      answer.end = performance.now()
      answer.error = err instanceof Error ? `${err.name}: ${err.message}${err.cause ? ` (${String(err.cause)})` : ''}` : String(err)
    }
    answers.push(answer)
    return answer
  }

  const consented: { vNummer: string; consentToken: string }[] = []
  const uploaded: { bundleId: string; consentToken: string }[] = []
  const pick = <T,>(list: T[]) => list[Math.max(0, list.length - 20) + Math.floor(Math.random() * Math.min(list.length, 20))]!
  const searchPath = (vNummer: string) => `/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`
  const plan: Kind[] = ['consent', 'upload', 'read', 'search', 'readyz', 'upload', 'read', 'metadata', 'search', 'healthz']
  let running = false
  let warmedAt = Infinity
  let workers: Promise<void>[] = []
  const worker = async (w: number) => {
    for (let i = w; running; i++) {
      let kind = plan[i % plan.length]!
      if ((kind === 'upload' || kind === 'search') && consented.length === 0) kind = 'consent'
      if (kind === 'read' && uploaded.length === 0) kind = consented.length === 0 ? 'consent' : 'upload'
      if (kind === 'consent') {
        const vNummer = newVNummer()
        const a = await call('consent', w, '/fhir/Consent', { method: 'POST', token: gza, body: consentResource({ vNummer }) })
        if (a.status === 201 && a.body) consented.push({ vNummer, consentToken: a.body })
      } else if (kind === 'upload') {
        const p = pick(consented)
        const a = await call('upload', w, '/fhir/Bundle', { method: 'POST', token: gza, body: handoverBundle(p.vNummer) })
        if (a.status === 201 && a.bundleId) uploaded.push({ bundleId: a.bundleId, consentToken: p.consentToken })
      } else if (kind === 'read') {
        const u = pick(uploaded)
        await call('read', w, `/fhir/Bundle/${u.bundleId}`, { token: nurse, consentToken: u.consentToken })
      } else if (kind === 'search') {
        await call('search', w, searchPath(pick(consented).vNummer), { token: gza })
      } else {
        await call(kind, w, kind === 'metadata' ? '/fhir/metadata' : `/${kind}`)
      }
      await sleep(10 + Math.random() * 20)
    }
  }

  return {
    answers,
    t0,
    warmedAt: () => warmedAt,
    call,
    /** A DB-backed read for a probe: a Patient search as the GZA doctor. */
    probeSearch: () => call('search', -1, searchPath(consented[0]?.vNummer ?? 'V0000000000'), { token: gza }),
    start() {
      running = true
      workers = Array.from({ length: WORKERS }, (_, w) => worker(w))
    },
    async stop() {
      running = false
      await Promise.all(workers)
    },
    /** Until uploads and reads succeed (the first validations in the worker thread take a while). */
    async warmUp() {
      for (let i = 0; i < 600; i++) {
        if (count(answers, (a) => a.kind === 'upload' && ok(a)) >= 5 && count(answers, (a) => a.kind === 'read' && ok(a)) >= 5) {
          warmedAt = performance.now()
          return
        }
        await sleep(100)
      }
      throw new Error(`the load never got going: ${byStatus(answers)}\n${service.log()}`)
    },
    /** /healthz answers and the process has not exited; otherwise throws with the process's output. */
    async checkAlive(when: string) {
      const healthz = await call('healthz', -1, '/healthz')
      if (!service.alive() || healthz.status !== 200) {
        throw new Error(
          `${when}: the service process is not alive (exit code ${service.child.exitCode}, signal ${service.child.signalCode}, /healthz ${healthz.status || healthz.error})\n` +
            `its output (tail):\n${service.log()}`,
        )
      }
    },
    describe: (a: Answer) =>
      `${a.kind} (worker ${a.worker}, request ${a.requestId}, at ${ms(a.start - t0)}, took ${ms(a.end - a.start)}): ${a.status || a.error} ${a.contentType ?? ''} ${a.body}`,
  }
}
type Load = Awaited<ReturnType<typeof loadOn>>

/**
 * What holds for every answer: a success or a well-formed 503 (never a 500, never no answer);
 * never slower than the timeouts allow; routes without the database always 200. Plus: database
 * answers asked and answered inside `down` are 503, inside `up` successes.
 */
function answerProblems(load: Load, windows: { down: [number, number][]; up: [number, number][] }): string[] {
  const problems: string[] = []
  const inside = (a: Answer, [from, to]: [number, number]) => a.start >= from && a.end <= to
  for (const a of load.answers) {
    if (a.status === 0) problems.push(`no HTTP answer: ${load.describe(a)}`)
    else if (!ok(a) && a.status !== 503) problems.push(`neither ${SUCCESS[a.kind]} nor 503: ${load.describe(a)}`)
    // Not before the load got going: the first validations warm the worker thread up.
    if (a.start >= load.warmedAt() && a.end - a.start > MAX_REQUEST_MS) {
      problems.push(`took longer than ${MAX_REQUEST_MS} ms (connect ${CONNECT_TIMEOUT_MS} + 2 × statement ${STATEMENT_TIMEOUT_MS} + margin ${MARGIN_MS}): ${load.describe(a)}`)
    }
    if (a.status === 503 && (!a.contentType?.startsWith('application/fhir+json') || !a.retryAfter || !a.transientOutcome)) {
      problems.push(`a 503 without an OperationOutcome (transient), application/fhir+json and Retry-After: ${load.describe(a)} retry-after=${a.retryAfter}`)
    }
    if (!isDb(a)) {
      if (a.status !== 200) problems.push(`a route without the database did not answer 200: ${load.describe(a)}`)
      continue
    }
    if (windows.down.some((w) => inside(a, w)) && a.status !== 503) problems.push(`asked and answered while the server was down, not 503: ${load.describe(a)}`)
    if (windows.up.some((w) => inside(a, w)) && !ok(a)) problems.push(`asked and answered while the server was up, not ${SUCCESS[a.kind]}: ${load.describe(a)}`)
  }
  return problems
}

/** Errors the service logged: every 500 is logged as "unhandled error" at level 50. */
function loggedErrors(service: Service): string[] {
  return (
    service
      .output()
      .split('\n')
      .filter((l) => /"level":(50|60)|unhandled error|Uncaught|Unhandled 'error' event/.test(l))
      // The retention job, when its run (10 s after start, then hourly) meets the outage: logged, retried next hour.
      .filter((l) => !/"job":"retention"/.test(l))
      .slice(0, 20)
  )
}

/** After the service has stopped: each audited success has its entry, each 201 upload its bundle; the chain holds. */
async function storedAndAudited(load: Load, databaseUrl: string, dataDir: string) {
  const db = await openDatabase({ kind: 'server', url: databaseUrl, poolSize: 2 })
  try {
    const audit = await db.selectFrom('audit_event').select(['request_id', 'event_type', 'outcome', 'resource_id']).execute()
    const byRequest = new Map<string, { event_type: string; outcome: string; resource_id: string | null }[]>()
    for (const row of audit) byRequest.set(row.request_id, [...(byRequest.get(row.request_id) ?? []), row])
    const bundles = new Set((await db.selectFrom('bundle_version').select('id').execute()).map((r) => r.id))
    const missing: string[] = []
    for (const a of load.answers) {
      const eventType = AUDITED[a.kind]
      if (!eventType || !ok(a)) continue
      const entries = byRequest.get(a.requestId) ?? []
      if (!entries.some((e) => e.event_type === eventType && e.outcome === 'permit')) missing.push(`no ${eventType} permit in the audit log for ${load.describe(a)}`)
      if (a.kind === 'upload') {
        if (!a.bundleId || !bundles.has(a.bundleId)) missing.push(`upload answered 201 but bundle ${a.bundleId} is not stored: ${load.describe(a)}`)
        if (!entries.some((e) => e.event_type === eventType && e.resource_id === a.bundleId)) missing.push(`the upload's audit entry does not name bundle ${a.bundleId}`)
      }
    }
    const uploads201 = count(load.answers, (a) => a.kind === 'upload' && a.status === 201)
    const uploads503 = count(load.answers, (a) => a.kind === 'upload' && a.status === 503)
    const uploadPermits = audit.filter((r) => r.event_type === 'dossier.upload' && r.outcome === 'permit').length
    const chain = await verifyAuditChain(db, deriveAuditKey(parseMasterKey(await ensureDevMasterKey(dataDir)).key))
    console.log(
      `uploads: ${uploads201} answered 201, ${uploads503} answered 503; ${uploadPermits} dossier.upload permits and ${bundles.size} bundle versions stored ` +
        `(${uploadPermits - uploads201} committed although answered 503); ${audit.length} audit entries; chain: ${JSON.stringify(chain)}`,
    )
    expect(missing.slice(0, 20), `${missing.length} missing`).toEqual([])
    // Every 201 upload has its permit; an upload answered 503 may still have committed (the
    // answer to COMMIT lost with the connection), never more than those.
    expect(uploadPermits).toBeGreaterThanOrEqual(uploads201)
    expect(uploadPermits - uploads201).toBeLessThanOrEqual(uploads503)
    expect(bundles.size).toBe(uploadPermits)
    expect(chain).toEqual({ ok: true, entries: audit.length })
  } finally {
    await db.destroy()
  }
}

describe.skipIf(skipReason !== undefined)(
  skipReason ? `PostgreSQL stopped and started under load (skipped: ${skipReason})` : 'PostgreSQL stopped and started under load',
  () => {
    let cluster: PrivateCluster
    const databaseUrl = (name: string) => cluster.url.replace(/\/[^/]*$/, `/${name}`)

    beforeAll(async () => {
      cluster = await startPrivateCluster()
      const admin = new pg.Client({ connectionString: cluster.url })
      await admin.connect()
      try {
        await admin.query('create database restart_under_load')
        await admin.query('create database chain_lock_held')
        await admin.query('create database frozen_server')
      } finally {
        await admin.end()
      }
    }, 120_000)

    afterAll(async () => {
      await cluster?.destroy()
    })

    it(
      `PostgreSQL stopped and started ${CYCLES} times under load (pg_ctl -m fast and -m immediate in turn): 503 OperationOutcomes with Retry-After during each outage and from /readyz, no 500, no request past the connect plus statement timeouts, the process alive throughout, 200s within seconds of each return; afterwards every 201 upload is stored and audited, the audit chain is intact, and SIGTERM ends the process with 0`,
      async () => {
        const url = databaseUrl('restart_under_load')
        const service = await startService(url)
        try {
          const load = await loadOn(service)
          interface Cycle {
            mode: 'fast' | 'immediate'
            lockBegin: number
            /** Service backends waiting on the chain lock when the stop began (most seen). */
            waitingOnLock: number
            stopBegin: number
            stopDone: number
            startBegin: number
            upAt: number
            recoveredAt: number
          }
          const cycles: Cycle[] = []
          const outageProbes: { cycle: number; readyz: Answer; search: Answer }[] = []
          load.start()
          try {
            await load.warmUp()
            await sleep(1_000)
            for (let c = 0; c < CYCLES; c++) {
              const mode = c % 2 === 0 ? 'fast' : 'immediate'
              // Service requests queue behind the chain lock, each with a client checked out and a
              // statement running, when the server goes. In one cycle the lock is held past the
              // statement timeout first: those requests end in 503 on their own, not hang.
              const holder = new pg.Client({ connectionString: url })
              holder.on('error', () => {})
              await holder.connect()
              await holder.query('select pg_advisory_lock($1)', [CHAIN_LOCK])
              const lockBegin = performance.now()
              const holdAtLeast = c === STATEMENT_TIMEOUT_CYCLE ? STATEMENT_TIMEOUT_HOLD_MS : 0
              let waitingOnLock = 0
              // Short of the statement timeout (except in STATEMENT_TIMEOUT_CYCLE): the waiting requests are still waiting at the stop.
              while (performance.now() - lockBegin < Math.max(holdAtLeast, STATEMENT_TIMEOUT_MS - 800)) {
                await sleep(50)
                const { rows } = await holder.query<{ n: number }>(
                  `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and objid = $1`,
                  [CHAIN_LOCK],
                )
                waitingOnLock = Math.max(waitingOnLock, rows[0]!.n)
                if (waitingOnLock >= 3 && performance.now() - lockBegin >= holdAtLeast) break
              }
              const stopBegin = performance.now()
              await cluster.stop(mode)
              const stopDone = performance.now()
              await holder.end().catch(() => undefined)

              const outageMs = c % 2 === 0 ? 1_500 : 2_500
              await sleep(outageMs / 2)
              await load.checkAlive(`cycle ${c + 1}, server stopped`)
              outageProbes.push({ cycle: c, readyz: await load.call('readyz', -1, '/readyz'), search: await load.probeSearch() })
              await sleep(outageMs / 2)

              const startBegin = performance.now()
              await cluster.start()
              const upAt = performance.now()
              cycles.push({ mode, lockBegin, waitingOnLock, stopBegin, stopDone, startBegin, upAt, recoveredAt: Infinity })
              // Probe /readyz until it answers 200 (the workers' answers count too, see below).
              for (let i = 0; i < 200 && (await load.call('readyz', -1, '/readyz')).status !== 200; i++) await sleep(25)
              await load.checkAlive(`cycle ${c + 1}, server back`)
              // Steady load on the restored server before the next stop.
              await sleep(2_000)
            }
          } finally {
            await load.stop()
          }
          const loadEnd = performance.now()
          const { answers } = load

          // --- the answers, against what the server was doing when each was asked and answered ---
          for (const cy of cycles) cy.recoveredAt = Math.min(...answers.filter((a) => isDb(a) && ok(a) && a.start >= cy.startBegin).map((a) => a.end))
          const up: [number, number][] = [
            [load.t0, cycles[0]?.lockBegin ?? loadEnd],
            ...cycles.map((cy, i): [number, number] => [cy.recoveredAt, cycles[i + 1]?.lockBegin ?? loadEnd]),
          ]
          const down = cycles.map((cy): [number, number] => [cy.stopDone, cy.startBegin])
          const problems = answerProblems(load, { up, down })
          for (const probe of outageProbes) {
            if (probe.readyz.status !== 503) problems.push(`/readyz during outage ${probe.cycle + 1}: ${load.describe(probe.readyz)}`)
            if (probe.search.status !== 503) problems.push(`Patient search during outage ${probe.cycle + 1}: ${load.describe(probe.search)}`)
          }
          for (const [i, cy] of cycles.entries()) {
            if (count(answers, (a) => isDb(a) && a.start >= cy.stopDone && a.end <= cy.startBegin) === 0) problems.push(`cycle ${i + 1}: no database request was answered while the server was down`)
            if (cy.recoveredAt - cy.upAt > MAX_RECOVERY_MS) problems.push(`cycle ${i + 1}: no 2xx within ${MAX_RECOVERY_MS} ms of the server's return`)
            if (cy.waitingOnLock === 0) problems.push(`cycle ${i + 1}: no service backend was waiting on the chain lock when the server stopped`)
          }
          // The window of the earlier crash was exercised: requests with a connection in use when the server went.
          const inFlightAt = (cy: Cycle) => answers.filter((a) => isDb(a) && a.start < cy.stopBegin && a.end > cy.stopBegin)
          if (cycles.every((cy) => count(inFlightAt(cy), (a) => a.status === 503) === 0)) problems.push('no request in flight at a stop was answered 503')
          // The statement timeout ended waits on the held lock while the server was still up.
          const timedOut = (() => {
            const cy = cycles[STATEMENT_TIMEOUT_CYCLE]!
            // A 503 answered while the lock was held and the server still up: a statement timeout.
            return answers.filter((a) => isDb(a) && a.status === 503 && a.end >= cy.lockBegin && a.end < cy.stopBegin)
          })()
          if (timedOut.length === 0) problems.push(`cycle ${STATEMENT_TIMEOUT_CYCLE + 1}: no request ended in 503 by the statement timeout while the lock was held`)
          const errors = loggedErrors(service)
          if (errors.length > 0) problems.push(`the service logged errors:\n${errors.join('\n')}`)

          const lines = [
            `${answers.length} answers in ${ms(loadEnd - load.t0)} (${byStatus(answers)})`,
            ...cycles.map((cy, i) => {
              const downAnswers = answers.filter((a) => isDb(a) && a.start >= cy.stopDone && a.end <= cy.startBegin)
              const after = answers.filter((a) => isDb(a) && a.start >= cy.recoveredAt && a.end <= (cycles[i + 1]?.lockBegin ?? loadEnd))
              return (
                `cycle ${i + 1} (-m ${cy.mode}): lock held ${ms(cy.stopBegin - cy.lockBegin)}, ${cy.waitingOnLock} service backends waiting on it; ` +
                `in flight at the stop: ${byStatus(inFlightAt(cy))}; stop took ${ms(cy.stopDone - cy.stopBegin)}; ` +
                `down ${ms(cy.startBegin - cy.stopDone)}: database answers ${byStatus(downAnswers)}; start took ${ms(cy.upAt - cy.startBegin)}; ` +
                `first 2xx ${ms(cy.recoveredAt - cy.upAt)} after pg_ctl start returned (${ms(cy.recoveredAt - cy.startBegin)} after it began); ` +
                `then until the next stop: ${byStatus(after)}`
              )
            }),
            `statement timeout (cycle ${STATEMENT_TIMEOUT_CYCLE + 1}, lock held ${STATEMENT_TIMEOUT_HOLD_MS} ms): ${timedOut.length} requests answered 503 while the server was up, ` +
              `after ${ms(Math.min(...timedOut.map((a) => a.end - a.start)))}–${ms(Math.max(...timedOut.map((a) => a.end - a.start)))}`,
            `slowest after the warm-up: ${answers
              .filter((a) => a.start >= load.warmedAt())
              .sort((x, y) => y.end - y.start - (x.end - x.start))
              .slice(0, 3)
              .map((a) => `${a.kind} ${a.status || a.error} in ${ms(a.end - a.start)}`)
              .join('; ')}`,
          ]
          console.log(lines.join('\n'))
          await load.checkAlive('after the load')
          expect(problems.slice(0, 40), `${problems.length} problems\n${lines.join('\n')}\n\nservice output (tail):\n${service.log(4_000)}`).toEqual([])

          // --- SIGTERM: a clean exit ---
          service.child.kill('SIGTERM')
          const exit = await Promise.race([service.exited(), sleep(30_000).then(() => ({ code: 'still running 30 s after SIGTERM', signal: null }))])
          expect(exit, service.log(4_000)).toEqual({ code: 0, signal: null })

          await storedAndAudited(load, url, service.dataDir)
        } finally {
          await service.dispose()
        }
      },
      300_000,
    )

    it(
      `the audit chain's lock held by another session for ${(6 * STATEMENT_TIMEOUT_MS) / 1000} s (6 statement timeouts) under load: the waiting requests end in 503 within connect plus twice the statement timeout plus margin, none queued behind one-by-one retries of a failed group commit; released, every request succeeds again`,
      async () => {
        const url = databaseUrl('chain_lock_held')
        const service = await startService(url)
        try {
          const load = await loadOn(service)
          load.start()
          let lockBegin = 0
          let lockEnd = 0
          try {
            await load.warmUp()
            await sleep(1_000)
            const holder = new pg.Client({ connectionString: url })
            await holder.connect()
            try {
              await holder.query('select pg_advisory_lock($1)', [CHAIN_LOCK])
              lockBegin = performance.now()
              await sleep(6 * STATEMENT_TIMEOUT_MS)
              await holder.query('select pg_advisory_unlock($1)', [CHAIN_LOCK])
              lockEnd = performance.now()
            } finally {
              await holder.end()
            }
            await load.checkAlive('after the lock')
            await sleep(3_000)
          } finally {
            await load.stop()
          }
          const loadEnd = performance.now()
          const { answers } = load
          const during = answers.filter((a) => isDb(a) && a.start >= lockBegin && a.start < lockEnd)
          const problems = answerProblems(load, { down: [], up: [[load.t0, lockBegin], [lockEnd, loadEnd]] })
          if (count(during, (a) => a.status === 503) === 0) problems.push('no request ended in 503 while the lock was held')
          const errors = loggedErrors(service)
          if (errors.length > 0) problems.push(`the service logged errors:\n${errors.join('\n')}`)
          const lines = [
            `${answers.length} answers in ${ms(loadEnd - load.t0)} (${byStatus(answers)})`,
            `asked while the lock was held (${ms(lockEnd - lockBegin)}): database answers ${byStatus(during)}; ` +
              `slowest ${ms(Math.max(...during.map((a) => a.end - a.start)))}; by kind: ` +
              (['consent', 'upload', 'read', 'search', 'readyz'] as Kind[])
                .map((k) => `${k} ${byStatus(during.filter((a) => a.kind === k))} (max ${ms(Math.max(0, ...during.filter((a) => a.kind === k).map((a) => a.end - a.start)))})`)
                .join('; '),
          ]
          console.log(lines.join('\n'))
          expect(problems.slice(0, 40), `${problems.length} problems\n${lines.join('\n')}\n\nservice output (tail):\n${service.log(4_000)}`).toEqual([])

          service.child.kill('SIGTERM')
          const exit = await Promise.race([service.exited(), sleep(30_000).then(() => ({ code: 'still running 30 s after SIGTERM', signal: null }))])
          expect(exit, service.log(4_000)).toEqual({ code: 0, signal: null })
          await storedAndAudited(load, url, service.dataDir)
        } finally {
          await service.dispose()
        }
      },
      180_000,
    )

    it(
      `PostgreSQL frozen (SIGSTOP: connections open, nothing answered) under load for longer than any request may take: every database request ends in 503 within connect plus twice the statement timeout plus margin, /readyz says 503, the process stays alive; thawed, 200s within seconds and the audit chain intact`,
      async () => {
        const url = databaseUrl('frozen_server')
        const service = await startService(url)
        const FREEZE_MS = MAX_REQUEST_MS + 4_000
        try {
          const load = await loadOn(service)
          load.start()
          let freezeAt = 0
          let thawAt = 0
          let recoveredAt = Infinity
          const probes: Answer[] = []
          try {
            await load.warmUp()
            await sleep(1_000)
            freezeAt = performance.now()
            cluster.freeze()
            try {
              await sleep(FREEZE_MS / 2)
              await load.checkAlive('server frozen')
              probes.push(await load.call('readyz', -1, '/readyz'), await load.probeSearch())
              await sleep(FREEZE_MS / 2)
            } finally {
              thawAt = performance.now()
              cluster.thaw()
            }
            for (let i = 0; i < 400 && (await load.call('readyz', -1, '/readyz')).status !== 200; i++) await sleep(25)
            await load.checkAlive('server thawed')
            await sleep(3_000)
          } finally {
            await load.stop()
          }
          const loadEnd = performance.now()
          const { answers } = load
          recoveredAt = Math.min(...answers.filter((a) => isDb(a) && ok(a) && a.start >= thawAt).map((a) => a.end))
          const problems = answerProblems(load, { down: [[freezeAt, thawAt]], up: [[load.t0, freezeAt], [recoveredAt, loadEnd]] })
          for (const p of probes) if (p.status !== 503) problems.push(`while frozen, not 503: ${load.describe(p)}`)
          if (recoveredAt - thawAt > MAX_RECOVERY_MS) problems.push(`no 2xx within ${MAX_RECOVERY_MS} ms of the thaw`)
          const errors = loggedErrors(service)
          if (errors.length > 0) problems.push(`the service logged errors:\n${errors.join('\n')}`)
          const frozenAnswers = answers.filter((a) => isDb(a) && a.start >= freezeAt && a.start < thawAt)
          const inFlight = answers.filter((a) => isDb(a) && a.start < freezeAt && a.end > freezeAt)
          const lines = [
            `${answers.length} answers in ${ms(loadEnd - load.t0)} (${byStatus(answers)})`,
            `frozen ${ms(thawAt - freezeAt)}: in flight at the freeze ${byStatus(inFlight)}; asked while frozen: database answers ${byStatus(frozenAnswers)}, ` +
              `slowest ${ms(Math.max(0, ...[...inFlight, ...frozenAnswers].map((a) => a.end - a.start)))}; ` +
              `first 2xx ${ms(recoveredAt - thawAt)} after the thaw`,
          ]
          console.log(lines.join('\n'))
          expect(problems.slice(0, 40), `${problems.length} problems\n${lines.join('\n')}\n\nservice output (tail):\n${service.log(4_000)}`).toEqual([])

          service.child.kill('SIGTERM')
          const exit = await Promise.race([service.exited(), sleep(30_000).then(() => ({ code: 'still running 30 s after SIGTERM', signal: null }))])
          expect(exit, service.log(4_000)).toEqual({ code: 0, signal: null })
          await storedAndAudited(load, url, service.dataDir)
        } finally {
          cluster.thaw()
          await service.dispose()
        }
      },
      180_000,
    )
  },
)
