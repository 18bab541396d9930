/**
 * `npm run bench`: Overdracht on a real PostgreSQL server, under load from autocannon, against
 * floors measured in the same run. See docs/performance.md.
 *
 *   npm run bench                 # 5,000 and 50,000 patients; writes bench/results/ and the table in docs/performance.md
 *   npm run bench -- --quick      # 5,000 patients, shorter runs; writes bench/results/quick.* only
 *
 * Options: --instances=N (service processes, load spread over them)  --workers=N (OVERDRACHT_WORKERS of each, default 1)  --sizes=5000,50000  --duration=10  --warmup=3  --connections=50  --keep (keep the databases)
 *          --only=perspective,dossier (scenarios)  --no-paced (saturation runs only)  --no-mixed (no reads with uploads)  --pool=N (OVERDRACHT_DB_POOL_SIZE)
 *          --profile (CPU profiles of the servers, in bench/results/tmp/profiles)  --statements (needs pg_stat_statements)
 * Environment: BENCH_DATABASE_URL (a PostgreSQL server to create the benchmark databases on; without
 * it a private server is started, see bench/local-postgres.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import pg from 'pg'
import { auditChainPage } from '../src/audit/audit.repository.js'
import { deriveAuditKey, verifyRun, type ChainedFields } from '../src/audit/audit-chain.js'
import { systemClock } from '../src/clock.js'
import { createConsentKeyRing } from '../src/consent/consent-keys.js'
import { issueConsentToken } from '../src/consent/consent-token.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { DEFAULT_SETTINGS } from '../src/deps.js'
import { parseMasterKey, type MasterKey } from '../src/patient/envelope.js'
import { BENCH_BIG_RECORDS, BENCH_CALLERS, benchConsent, bundleTemplates, bundleText, templateFor } from './dataset.js'
import { BENCH_AUDIENCE, BENCH_ISSUER, createBenchIdentityProvider } from './identity.js'
import { postgresServer, runLoad, withDescendants, type LoadResult } from './load.js'
import { startLocalPostgres, SERVER_SETTINGS, type LocalPostgres } from './local-postgres.js'
import { capturePlans, indexShapes, type IndexShape, type PlanRequest, type ScenarioPlans } from './plans.js'
import { renderPlans, renderReport, updatePerformanceDoc, type BenchReport, type SizeReport } from './report.js'
import { seedDataset, type SeededPatient } from './seed.js'

/** The uploads per second of the mixed scenario. */
const MIXED_UPLOADS_PER_S = 10

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const RESULTS = join(ROOT, 'bench', 'results')
const WORK = join(RESULTS, 'tmp')

// ---- options -------------------------------------------------------------------------------------

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(`--${name}`)
const option = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = flag('quick')
const sizes = (option('sizes') ?? (quick ? '5000' : '5000,50000')).split(',').map(Number)
const durationS = Number(option('duration') ?? (quick ? 5 : 10))
const warmupS = Number(option('warmup') ?? (quick ? 2 : 3))
const connections = Number(option('connections') ?? 50)
const keep = flag('keep')
const instances = Number(option('instances') ?? 1)
const workers = Number(option('workers') ?? 1)
/** Connections from the service (and the floor server) to PostgreSQL: the service's default unless given. */
const poolSize = option('pool')
const AUDIT_PER_PATIENT = 100
const TOKEN_SAMPLE = 5000
const SERVICE_PORT = 18181
const FLOOR_PORT = 18180

const started = Date.now()
const log = (message: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`)

// ---- helpers -------------------------------------------------------------------------------------

function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

async function waitFor(url: string, child: ChildProcess, what: string) {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before answering; see ${WORK}`)
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${what} did not answer ${url} within 60 s`)
}

function startProcess(script: string, env: Record<string, string>, logName: string): ChildProcess {
  const out = openSync(join(WORK, logName), 'w')
  // `node --import tsx` runs the TypeScript as `npm start` (tsx) does, without a wrapper process,
  // so the pid is the server's own and /proc shows its CPU time.
  const profile = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${join(WORK, 'profiles')}`] : []
  // BENCH_NODE_ARGS: extra Node.js flags for the servers, for investigations (e.g. --trace-gc).
  const extra = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : []
  return spawn(process.execPath, [...profile, ...extra, '--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, out] })
}

async function stopProcess(child: ChildProcess) {
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  await exited
  clearTimeout(timer)
}

// ---- one dataset size ----------------------------------------------------------------------------

interface ScenarioDef {
  name: string
  label: string
  kind: 'floor' | 'service'
  expectStatus: number
  request: Parameters<typeof runLoad>[0]['request']
  plan?: PlanRequest
  /**
   * A second, paced run for a latency target: at half the audited floor's throughput (the
   * perspective target's own rate), or at half this scenario's saturated throughput.
   */
  paced?: 'half-floor' | 'half-own'
}

async function runSize(adminUrl: string, patients: number, masterKeyText: string): Promise<SizeReport> {
  const masterKey: MasterKey = parseMasterKey(masterKeyText)
  const auditRows = patients * AUDIT_PER_PATIENT
  const dbName = `overdracht_bench_${patients}`
  const url = withDatabase(adminUrl, dbName)
  log(`== ${patients.toLocaleString('en')} patients, ${auditRows.toLocaleString('en')} audit rows: database ${dbName}`)

  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`drop database if exists ${dbName} with (force)`)
  await admin.query(`create database ${dbName}`)
  await admin.end()

  const db = await openDatabase({ kind: 'server', url, poolSize: 2 })
  await migrateToLatest(db)
  if (flag('statements')) await sql`create extension if not exists pg_stat_statements`.execute(db)
  // The floor's audit table: audit_event's columns and indexes, without partitions or the chain.
  await sql`create table bench_floor_audit (like audit_event)`.execute(db)
  await sql`create sequence bench_floor_audit_seq owned by bench_floor_audit.id`.execute(db)
  await sql`alter table bench_floor_audit alter column id set default nextval('bench_floor_audit_seq'), add primary key (id, occurred_at)`.execute(db)
  await sql`create index bench_floor_audit_patient_idx on bench_floor_audit (patient_id, occurred_at)`.execute(db)
  // Today's retention run is marked done, as if another instance ran it: its scan of every
  // patient would otherwise start 10 s after the service and fall into a measurement.
  await sql`insert into job_run (name, run_on, started_at, finished_at, result)
            values ('retention', current_date, now(), now(), '{"bench":"claimed by the benchmark"}')`.execute(db)

  const now = new Date()
  const seedStart = Date.now()
  const seed = await seedDataset({ url, patients, auditRows, masterKey, now, log })
  try {
    await sql`checkpoint`.execute(db)
  } catch {
    // not a superuser: the next checkpoint comes on its own
  }
  const seedSeconds = (Date.now() - seedStart) / 1000
  log(
    `seeded in ${seedSeconds.toFixed(0)} s (patients ${seed.seconds.patients.toFixed(0)} s, audit ${seed.seconds.audit.toFixed(0)} s, ` +
      `vacuum ${seed.seconds.vacuum.toFixed(0)} s); bundle ${seed.bundleBytes} bytes`,
  )

  // Callers, the BIG register file and the consent tokens.
  mkdirSync(WORK, { recursive: true })
  const idp = await createBenchIdentityProvider(join(WORK, 'jwks.json'))
  const bigFile = join(WORK, 'big-register.json')
  writeFileSync(bigFile, JSON.stringify(BENCH_BIG_RECORDS))
  const tokens = {
    gza: await idp.token({ ...BENCH_CALLERS.gzaDoctor }),
    escort: await idp.token({ ...BENCH_CALLERS.escortNurse }),
    dtv: await idp.token({ ...BENCH_CALLERS.regievoerder }),
    po: await idp.token({ ...BENCH_CALLERS.privacyOfficer }),
  }
  const ring = createConsentKeyRing(db, masterKey, systemClock)
  const rng = mulberry32(patients)
  const sample: { patient: SeededPatient; token: string }[] = []
  const settings = { issuer: DEFAULT_SETTINGS.consentTokenIssuer, audience: DEFAULT_SETTINGS.consentTokenAudience }
  for (let i = 0; i < Math.min(TOKEN_SAMPLE, patients); i++) {
    const patient = seed.patients[Math.floor(rng() * patients)]!
    const { token } = await issueConsentToken(ring, settings, systemClock, {
      patientId: patient.id,
      consentId: patient.consentId,
      purpose: 'handover',
      expiresAt: new Date(Date.now() + 4 * 3600_000),
    })
    sample.push({ patient, token })
  }

  const env: Record<string, string> = {
    PORT: String(SERVICE_PORT),
    HOST: '127.0.0.1',
    DATABASE_URL: url,
    OVERDRACHT_DATA_DIR: join(WORK, 'data'),
    OVERDRACHT_AUTH_ISSUER: BENCH_ISSUER,
    OVERDRACHT_AUTH_AUDIENCE: BENCH_AUDIENCE,
    OVERDRACHT_AUTH_JWKS_FILE: idp.jwksFile,
    OVERDRACHT_BIG_REGISTER_FILE: bigFile,
    OVERDRACHT_MASTER_KEY: masterKeyText,
    OVERDRACHT_LOG_LEVEL: 'info',
    ...(poolSize ? { OVERDRACHT_DB_POOL_SIZE: poolSize } : {}),
    // --workers=N: service processes per instance (node:cluster); 1 unless asked, so runs compare.
    OVERDRACHT_WORKERS: String(workers),
  }
  // --instances=N: N service processes (ports SERVICE_PORT + i), the load spread over them, as a
  // load balancer would; the floors stay one process.
  const services = Array.from({ length: instances }, (_, i) =>
    startProcess('src/server.ts', { ...env, PORT: String(SERVICE_PORT + i) }, `service-${patients}${instances > 1 ? `-${i}` : ''}.log`),
  )
  const service = services[0]!
  // Each instance with its service processes: the CPU of all of them is the service's.
  const servicePids = () => services.flatMap((p) => withDescendants(p.pid!))
  const serviceUrls = services.map((_, i) => `http://127.0.0.1:${SERVICE_PORT + i}`)
  const floor = startProcess(
    'bench/floor-server.ts',
    { DATABASE_URL: url, PORT: String(FLOOR_PORT), ...(poolSize ? { OVERDRACHT_DB_POOL_SIZE: poolSize } : {}) },
    `floor-${patients}.log`,
  )
  const scenarios: { def: ScenarioDef; result: LoadResult; paced?: LoadResult & { rate: number } }[] = []
  const mixed: NonNullable<SizeReport['mixed']> = []
  let plans: ScenarioPlans[] = []
  let shapes: IndexShape[] = []
  let chain: SizeReport['chain']
  try {
    for (const [i, p] of services.entries()) await waitFor(`http://127.0.0.1:${SERVICE_PORT + i}/readyz`, p, 'the service')
    await waitFor(`http://127.0.0.1:${FLOOR_PORT}/healthz`, floor, 'the floor server')

    const pick = (r: () => number) => seed.patients[Math.floor(r() * patients)]!
    const templates = bundleTemplates(new Date(now.getTime() - 5 * 24 * 3600_000))
    const fhir = { 'content-type': 'application/fhir+json' }
    let consentSeq = 0
    const planPatient = seed.patients[7 % patients]!
    const planSample = sample[0]!
    const defs: ScenarioDef[] = [
      {
        name: 'floor-read',
        label: 'Floor: bare Hono, one ~40 KB row by primary key',
        kind: 'floor',
        expectStatus: 200,
        paced: 'half-own',
        request: { method: 'GET', path: `/floor/read/${seed.patients[0]!.bundleId}`, setupRequest: (req) => ({ ...req, path: `/floor/read/${pick(rng).bundleId}` }) },
      },
      {
        name: 'floor-audited',
        label: 'Floor: the same + one audit row inserted and committed',
        kind: 'floor',
        expectStatus: 200,
        // The machine's own latency tail at half load: what the paced targets are measured against.
        paced: 'half-own',
        request: { method: 'GET', path: `/floor/audited/${seed.patients[0]!.bundleId}`, setupRequest: (req) => ({ ...req, path: `/floor/audited/${pick(rng).bundleId}` }) },
      },
      {
        name: 'perspective',
        label: '(a) Handelingsperspectief, non-caregiver (DT&V regievoerder)',
        kind: 'service',
        expectStatus: 200,
        request: {
          method: 'GET',
          path: `/fhir/Patient/${seed.patients[0]!.id}/$handelingsperspectief`,
          headers: { authorization: `Bearer ${tokens.dtv}` },
          setupRequest: (req) => ({ ...req, path: `/fhir/Patient/${pick(rng).id}/$handelingsperspectief` }),
        },
        paced: 'half-floor',
        plan: { scenario: 'perspective', method: 'GET', path: `/fhir/Patient/${planPatient.id}/$handelingsperspectief`, headers: { authorization: `Bearer ${tokens.dtv}` } },
      },
      {
        name: 'dossier',
        label: '(b) Dossier read, caregiver with consent token (escort nurse)',
        kind: 'service',
        expectStatus: 200,
        request: {
          method: 'GET',
          path: `/fhir/Patient/${sample[0]!.patient.id}/$handover`,
          headers: { authorization: `Bearer ${tokens.escort}`, 'x-consent-token': sample[0]!.token },
          setupRequest: (req) => {
            const s = sample[Math.floor(rng() * sample.length)]!
            return { ...req, path: `/fhir/Patient/${s.patient.id}/$handover`, headers: { authorization: `Bearer ${tokens.escort}`, 'x-consent-token': s.token } }
          },
        },
        plan: {
          scenario: 'dossier',
          method: 'GET',
          path: `/fhir/Patient/${planSample.patient.id}/$handover`,
          headers: { authorization: `Bearer ${tokens.escort}`, 'x-consent-token': planSample.token },
        },
      },
      {
        name: 'access-log',
        label: '(e) Access log of one patient (privacy officer)',
        kind: 'service',
        expectStatus: 200,
        request: {
          method: 'GET',
          path: `/fhir/Patient/${seed.patients[0]!.id}/$access-log`,
          headers: { authorization: `Bearer ${tokens.po}` },
          setupRequest: (req) => ({ ...req, path: `/fhir/Patient/${pick(rng).id}/$access-log` }),
        },
        paced: 'half-own',
        plan: { scenario: 'access-log', method: 'GET', path: `/fhir/Patient/${planPatient.id}/$access-log`, headers: { authorization: `Bearer ${tokens.po}` } },
      },
      {
        name: 'upload',
        label: `(c) Bundle upload, ${(seed.bundleBytes / 1000).toFixed(0)} KB (GZA doctor)`,
        kind: 'service',
        expectStatus: 201,
        request: {
          method: 'POST',
          path: '/fhir/Bundle',
          headers: { authorization: `Bearer ${tokens.gza}`, ...fhir },
          body: bundleText(templateFor(templates, 0), 0),
          setupRequest: (req) => {
            const n = pick(rng).n
            return { ...req, body: bundleText(templateFor(templates, n), n) }
          },
        },
        paced: 'half-own',
        plan: {
          scenario: 'upload',
          method: 'POST',
          path: '/fhir/Bundle',
          headers: { authorization: `Bearer ${tokens.gza}`, ...fhir },
          body: bundleText(templateFor(templates, planPatient.n), planPatient.n),
        },
      },
      {
        name: 'consent',
        label: '(d) Consent recorded, answered with a consent token (GZA doctor)',
        kind: 'service',
        expectStatus: 201,
        request: {
          method: 'POST',
          path: '/fhir/Consent',
          headers: { authorization: `Bearer ${tokens.gza}`, ...fhir },
          body: JSON.stringify(benchConsent('V2000000000', now)),
          setupRequest: (req) => ({ ...req, body: JSON.stringify(benchConsent(`V2${String(++consentSeq).padStart(9, '0')}`, now)) }),
        },
        plan: {
          scenario: 'consent',
          method: 'POST',
          path: '/fhir/Consent',
          headers: { authorization: `Bearer ${tokens.gza}`, ...fhir },
          body: JSON.stringify(benchConsent('V2999999999', now)),
        },
      },
    ]
    // WAL flushes and bytes of the server (pg_stat_wal), per request: what durability costs.
    const statsClient = new pg.Client({ connectionString: url })
    await statsClient.connect()
    const counters = async () => {
      const { rows } = await statsClient.query<{ syncs: string; bytes: string }>('select wal_sync::text as syncs, wal_bytes::text as bytes from pg_stat_wal')
      return { walSyncs: Number(rows[0]!.syncs), walBytes: Number(rows[0]!.bytes) }
    }
    const only = option('only')?.split(',')
    const selected = defs.filter((d) => !only || only.includes(d.name))
    // A fresh Node.js process runs slowly until its hot paths are compiled: before the first
    // measurement, every service route gets traffic for a while (not counted).
    for (const def of selected.filter((d) => d.kind === 'service')) {
      await runLoad({ url: serviceUrls, connections, request: def.request, expectStatus: def.expectStatus, durationS: warmupS }, servicePids())
    }
    for (const def of selected) {
      const target = def.kind === 'floor' ? [floor.pid!] : servicePids()
      const base = def.kind === 'floor' ? `http://127.0.0.1:${FLOOR_PORT}` : serviceUrls
      const spec = { url: base, connections, request: def.request, expectStatus: def.expectStatus }
      await runLoad({ ...spec, durationS: warmupS }, target)
      if (flag('statements')) await statsClient.query('select pg_stat_statements_reset()')
      const result = await runLoad({ ...spec, durationS }, target, counters)
      if (flag('statements')) {
        // Investigation aid (needs shared_preload_libraries=pg_stat_statements): where PostgreSQL's time went.
        const { rows } = await statsClient.query<{ calls: string; mean: number; total: number; query: string }>(
          `select calls::text, mean_exec_time + mean_plan_time as mean, total_exec_time + total_plan_time as total, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as query
           from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database()) order by total desc limit 12`,
        )
        for (const r of rows) log(`    ${(Number(r.calls) / Math.max(1, result.requests)).toFixed(2)}/req  ${r.mean.toFixed(3)} ms  ${r.query}`)
      }
      log(
        `${def.name.padEnd(14)} ${String(result.rps).padStart(7)} req/s  p50 ${result.latencyMs.p50} ms  p99 ${result.latencyMs.p99} ms  ` +
          `cpu/req: server ${result.cpuMsPerRequest.server} ms, postgres ${result.cpuMsPerRequest.postgres} ms` +
          (result.otherCores > 0.05 ? `  (other work on the machine: ${result.otherCores} cores)` : '') +
          (result.unexpected || result.errors ? `  UNEXPECTED ${JSON.stringify(result.statuses)} errors ${result.errors}` : ''),
      )
      let paced: (LoadResult & { rate: number }) | undefined
      const floorRps = scenarios.find((s) => s.def.name === 'floor-audited')?.result.rps
      const rate = def.paced === 'half-floor' ? (floorRps ?? 0) / 2 : def.paced === 'half-own' ? result.rps / 2 : 0
      if (rate >= 1 && !flag('no-paced')) {
        // Long enough for a p99 that rests on more than a handful of requests: 1,000 requests, or 3x the duration.
        const pacedS = Math.min(3 * durationS, Math.max(durationS, Math.ceil(1000 / rate)))
        paced = { rate: Math.round(rate), ...(await runLoad({ ...spec, durationS: pacedS, rate: Math.round(rate) }, target, counters)) }
        log(
          `${`${def.name} paced`.padEnd(14)} ${String(paced.rps).padStart(7)} req/s (asked ${paced.rate})  p50 ${paced.latencyMs.p50} ms  p99 ${paced.latencyMs.p99} ms` +
            `  (load generator lag p99 ${paced.loadGeneratorLagMs?.p99} ms, max ${paced.loadGeneratorLagMs?.max} ms)`,
        )
      }
      scenarios.push({ def, result, ...(paced ? { paced } : {}) })
    }

    // The mixed scenario: a read at half its own capacity, paced, alone and then while uploads
    // arrive at 10 per second (validation in its worker threads must not delay the reads).
    const upload = defs.find((d) => d.name === 'upload')!
    for (const name of flag('no-mixed') ? [] : ['perspective', 'dossier']) {
      const read = scenarios.find((s) => s.def.name === name)
      if (!read) continue
      const rate = Math.max(1, Math.round(read.result.rps / 2))
      const spec = { url: serviceUrls, connections, request: read.def.request, expectStatus: read.def.expectStatus }
      const mixedS = Math.min(3 * durationS, Math.max(durationS, Math.ceil(1000 / rate)))
      const alone = await runLoad({ ...spec, durationS: mixedS, rate }, servicePids())
      const [withUploads, uploads] = await Promise.all([
        runLoad({ ...spec, durationS: mixedS, rate }, servicePids()),
        runLoad({ url: serviceUrls, connections: 10, request: upload.request, expectStatus: upload.expectStatus, durationS: mixedS, rate: MIXED_UPLOADS_PER_S }, servicePids()),
      ])
      const entry = { scenario: name, rate, alone: alone.latencyMs, withUploads: withUploads.latencyMs, uploads: { rps: uploads.rps, p99: uploads.latencyMs.p99, unexpected: uploads.unexpected + uploads.errors } }
      mixed.push(entry)
      log(
        `${`${name} mixed`.padEnd(14)} ${rate} req/s: p50 ${alone.latencyMs.p50} / p99 ${alone.latencyMs.p99} ms alone, ` +
          `p50 ${withUploads.latencyMs.p50} / p99 ${withUploads.latencyMs.p99} ms with ${uploads.rps} uploads/s (upload p99 ${uploads.latencyMs.p99} ms)`,
      )
    }

    await statsClient.end()
    log('query plans')
    plans = await capturePlans(env, url, defs.filter((d) => d.plan).map((d) => d.plan!))
    shapes = await indexShapes(url)
  } finally {
    for (const p of services) await stopProcess(p)
    await stopProcess(floor)
  }

  // The service's own audit entries must chain from the last pre-filled row.
  const auditKey = deriveAuditKey(masterKey.key)
  let prev: { hash: string; id: string | undefined } = { hash: seed.lastPrefill.hash, id: seed.lastPrefill.id }
  let live = 0
  let problem: string | undefined
  for (;;) {
    const page = await auditChainPage(db, prev.id, 5000)
    if (page.length === 0) break
    const r = verifyRun(auditKey, prev, page as unknown as (ChainedFields & { prev_hash: string; hash: string })[])
    if (!r.ok) {
      problem = r.problem.message
      break
    }
    live += page.length
    prev = r.last
  }
  chain = { liveEntries: live, intact: problem === undefined, ...(problem ? { problem } : {}) }
  log(`audit chain after the pre-fill: ${live} live entries, ${problem ? `BROKEN: ${problem}` : 'intact'}`)

  const sizes = await sql<{ name: string; bytes: string }>`
    select c.relname as name, pg_total_relation_size(c.oid)::text as bytes from pg_class c
    where c.relname in ('bundle_version', 'patient', 'consent', 'task', 'perspective', 'patient_identifier', 'patient_key')
    union all
    select 'audit_event', sum(pg_total_relation_size(h.inhrelid))::text from pg_inherits h where h.inhparent = 'audit_event'::regclass
    union all
    select 'database', pg_database_size(current_database())::text`.execute(db)
  await db.destroy()
  if (!keep) {
    const a = new pg.Client({ connectionString: adminUrl })
    await a.connect()
    await a.query(`drop database if exists ${dbName} with (force)`)
    await a.end()
  }
  const floors = Object.fromEntries(scenarios.filter((s) => s.def.kind === 'floor').map((s) => [s.def.name, s.result.rps]))
  return {
    patients,
    auditRows,
    seedSeconds: Math.round(seedSeconds),
    seedBreakdown: seed.seconds,
    bundleBytes: seed.bundleBytes,
    relationBytes: Object.fromEntries(sizes.rows.map((r) => [r.name, Number(r.bytes)])),
    scenarios: scenarios.map(({ def, result, paced }) => ({
      name: def.name,
      label: def.label,
      kind: def.kind,
      ...result,
      ...(paced ? { paced } : {}),
      ratioToAuditedFloor: floors['floor-audited'] ? Math.round((result.rps / floors['floor-audited']) * 1000) / 1000 : undefined,
    })),
    ...(mixed.length ? { mixed } : {}),
    plans,
    indexes: shapes,
    chain,
  }
}

// ---- main ----------------------------------------------------------------------------------------

async function main() {
  mkdirSync(WORK, { recursive: true })
  let local: LocalPostgres | undefined
  let adminUrl = process.env.BENCH_DATABASE_URL
  if (!adminUrl) {
    log('BENCH_DATABASE_URL is not set: starting a private PostgreSQL server (bench/local-postgres.ts)')
    local = startLocalPostgres()
    adminUrl = local.url
  }
  try {
    const probe = new pg.Client({ connectionString: adminUrl })
    await probe.connect()
    const version = (await probe.query<{ server_version: string }>('show server_version')).rows[0]!.server_version
    try {
      // Count the CPU of this server's processes only (postmaster.pid names the postmaster).
      const dir = (await probe.query<{ data_directory: string }>('show data_directory')).rows[0]!.data_directory
      postgresServer.postmasterPid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0])
    } catch {
      log('cannot read postmaster.pid: PostgreSQL CPU counts every postgres process on this machine')
    }
    const settingNames = ['shared_buffers', 'max_connections', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'max_wal_size']
    const settings: Record<string, string> = {}
    for (const name of settingNames) settings[name] = (await probe.query(`show ${name}`)).rows[0]![name]
    await probe.end()
    log(`PostgreSQL ${version}; ${cpus().length} cores; scenarios ${durationS} s after ${warmupS} s warm-up, ${connections} connections`)

    const masterKeyText = randomBytes(32).toString('base64')
    const reports: SizeReport[] = []
    for (const size of sizes) reports.push(await runSize(adminUrl, size, masterKeyText))

    const report: BenchReport = {
      generatedAt: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      totalSeconds: 0,
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        kernel: release(),
        node: process.version,
        postgres: version,
        postgresSettings: settings,
        postgresStartedBy: local ? `bench/local-postgres.ts (${Object.entries(SERVER_SETTINGS).map(([k, v]) => `${k}=${v}`).join(', ')})` : 'BENCH_DATABASE_URL',
      },
      settings: { durationS, warmupS, connections, instances, workers, auditPerPatient: AUDIT_PER_PATIENT, tokenSample: TOKEN_SAMPLE },
      sizes: reports,
    }
    report.totalSeconds = Math.round((Date.now() - started) / 1000)
    const name = quick ? 'quick' : option('sizes') || option('duration') || option('only') || option('instances') || option('workers') || option('pool') ? 'custom' : 'full'
    writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify({ ...report, sizes: report.sizes.map((s) => ({ ...s, plans: undefined })) }, null, 2)}\n`)
    writeFileSync(join(RESULTS, `${name}-plans.md`), renderPlans(report))
    writeFileSync(join(RESULTS, `${name}.md`), renderReport(report))
    if (name === 'full') {
      updatePerformanceDoc(join(ROOT, 'docs', 'performance.md'), renderReport(report))
      log('wrote bench/results/full.json, full.md, full-plans.md and the table in docs/performance.md')
    } else {
      log(`wrote bench/results/${name}.json, ${name}.md, ${name}-plans.md (docs/performance.md is written by the full run only)`)
    }
    process.stdout.write(`\n${readFileSync(join(RESULTS, `${name}.md`), 'utf8')}\n`)
    log(`total ${report.totalSeconds} s`)
  } finally {
    local?.stop()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
