/**
 * Seeds a benchmark database in bulk, bypassing HTTP but not the service's own code:
 *
 * - each patient's data key is made and wrapped by the master key with `newDataKey`/`wrapDataKey`,
 *   the bundle and the consent are encrypted with `encryptContent` (JWE, the same protected header
 *   ids the service uses), the perspective rows come from `derivePerspective`, the consent
 *   provisions from `parseConsent` + `storedProvisions`; the task resource has the shape of
 *   `canonicalTask` in src/tasks/task.service.ts (`taskResource` below; no request reads it);
 * - the stored bundle text is the uploaded JSON plus the server's `id` and `meta`, byte for byte
 *   what `uploadBundle` stores (checked against `JSON.stringify` on a sample of patients);
 * - the audit log is pre-filled with SQL (`insert ... select generate_series`): realistic rows over
 *   the past year, in monthly partitions, with placeholder hashes. They do NOT form a valid hash
 *   chain, so `npm run audit:verify` is not meaningful on a benchmark database; the service's own
 *   inserts afterwards chain from the last pre-filled row (checked after the run).
 *
 * Rows go in with `insert ... select from unnest($arrays)`, a batch of patients per statement,
 * with `synchronous_commit = off` for the seeding session only (the service's own commits during
 * the measurement stay synchronous).
 */
import { fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { professionName } from '../src/big/big-status.js'
import { storedProvisions } from '../src/access/facts.js'
import { parseConsent } from '../src/consent/consent-resource.js'
import { encryptContent, newDataKey, wrapDataKey, type MasterKey } from '../src/patient/envelope.js'
import { derivePerspective } from '../src/perspective/derive.js'
import { SYSTEM } from '../src/fhir/systems.js'
import {
  BENCH_CALLERS,
  BENCH_URA,
  TASK_PARTIES,
  benchConsent,
  bundleTemplates,
  bundleText,
  templateFor,
  vNummerOf,
  type BundleTemplate,
} from './dataset.js'

export interface SeedOptions {
  url: string
  patients: number
  auditRows: number
  masterKey: MasterKey
  /** The seed's "now": uploads, consents and tasks happened shortly before it. */
  now: Date
  log: (message: string) => void
}

export interface SeededPatient {
  id: string
  n: number
  consentId: string
  bundleId: string
}

export interface SeedResult {
  patients: SeededPatient[]
  /** The last pre-filled audit row: the service's first insert must chain from it. */
  lastPrefill: { id: string; hash: string }
  seconds: { patients: number; audit: number; vacuum: number }
  bundleBytes: number
}

const BATCH = 250
const HOUR = 3600_000
const DAY = 24 * HOUR

interface Batch {
  patient: unknown[][]
  identifier: unknown[][]
  key: unknown[][]
  bundle: unknown[][]
  perspective: unknown[][]
  consent: unknown[][]
  task: unknown[][]
  seeded: SeededPatient[]
}

const columns = (n: number) => Array.from({ length: n }, () => [] as unknown[])

/** The stored text of a just-uploaded bundle: what `uploadBundle` writes, without a second JSON pass. */
export const storedBundleText = (uploaded: string, id: string, lastUpdated: Date) =>
  `${uploaded.slice(0, -1)},"id":${JSON.stringify(id)},"meta":{"versionId":"1","lastUpdated":"${lastUpdated.toISOString()}"}}`

export async function buildBatch(
  from: number,
  to: number,
  templates: BundleTemplate[],
  derived: Map<BundleTemplate, ReturnType<typeof derivePerspective>>,
  master: MasterKey,
  now: Date,
): Promise<Batch> {
  const b: Batch = {
    patient: columns(2),
    identifier: columns(3),
    key: columns(4),
    bundle: columns(11),
    perspective: columns(9),
    consent: columns(13),
    task: columns(11),
    seeded: [],
  }
  const profession = professionName('01') ?? 'caregiver'
  for (let n = from; n < to; n++) {
    // Each patient's story: consent and the first upload a few days back, the departure ahead.
    const createdAt = new Date(now.getTime() - 3 * DAY - (n % 1000) * 60_000)
    const consentAt = new Date(createdAt.getTime() + 10 * 60_000)
    const uploadedAt = new Date(createdAt.getTime() + 20 * 60_000)
    const taskAt = new Date(createdAt.getTime() + 30 * 60_000)
    const plannedStart = new Date(now.getTime() + 3 * DAY + (n % 48) * HOUR)

    const id = randomUUID()
    const v = vNummerOf(n)
    b.patient[0]!.push(id)
    b.patient[1]!.push(createdAt.toISOString())
    b.identifier[0]!.push(SYSTEM.vNummer)
    b.identifier[1]!.push(v)
    b.identifier[2]!.push(id)

    const dataKey = newDataKey()
    b.key[0]!.push(id)
    b.key[1]!.push(await wrapDataKey(dataKey, master, id))
    b.key[2]!.push(master.id)
    b.key[3]!.push(createdAt.toISOString())

    // The consent, as recordConsent stores it.
    const consentId = randomUUID()
    const consent = benchConsent(v, consentAt)
    const parsed = parseConsent(consent)
    if ('issues' in parsed) throw new Error(`bench consent is not acceptable: ${JSON.stringify(parsed.issues)}`)
    const consentResource = { ...consent, id: consentId, meta: { ...consent.meta, versionId: '1', lastUpdated: consentAt.toISOString() } }
    const c = b.consent
    c[0]!.push(consentId)
    c[1]!.push(id)
    c[2]!.push(parsed.status)
    c[3]!.push(parsed.recordedAt.toISOString())
    c[4]!.push(parsed.formType ?? null)
    c[5]!.push(parsed.formVersion ?? null)
    c[6]!.push(storedProvisions(parsed.provisions))
    c[7]!.push(BENCH_CALLERS.gzaDoctor.org)
    c[8]!.push(BENCH_CALLERS.gzaDoctor.sub)
    c[9]!.push(consentAt.toISOString())
    c[10]!.push(await encryptContent(JSON.stringify(consentResource), dataKey, `consent:${consentId}:1`))
    c[11]!.push(parsed.period?.start?.toISOString() ?? null)
    c[12]!.push(parsed.period?.end?.toISOString() ?? null)

    // The dossier, as uploadBundle stores it.
    const template = templateFor(templates, n)
    const uploaded = bundleText(template, n)
    const bundleId = randomUUID()
    const text = storedBundleText(uploaded, bundleId, uploadedAt)
    if (n % 997 === 0) {
      const object = JSON.parse(uploaded)
      const expected = JSON.stringify({ ...object, id: bundleId, meta: { ...object.meta, versionId: '1', lastUpdated: uploadedAt.toISOString() } })
      if (expected !== text) throw new Error('stored bundle text differs from what uploadBundle would store')
      if (JSON.stringify(derivePerspective(JSON.parse(text), uploadedAt)) !== JSON.stringify(derived.get(template))) {
        throw new Error('the perspective of a seeded bundle differs from its template perspective')
      }
    }
    const entries = ENTRY_COUNTS.get(template)!
    const bv = b.bundle
    bv[0]!.push(bundleId)
    bv[1]!.push(id)
    bv[2]!.push(1)
    bv[3]!.push('collection')
    bv[4]!.push(await encryptContent(text, dataKey, bundleId))
    bv[5]!.push(Buffer.byteLength(text))
    bv[6]!.push(entries)
    bv[7]!.push(uploadedAt.toISOString())
    bv[8]!.push(BENCH_CALLERS.gzaDoctor.org)
    bv[9]!.push(BENCH_CALLERS.gzaDoctor.org_type)
    bv[10]!.push(BENCH_CALLERS.gzaDoctor.sub)

    // The perspective, as storePerspective derives it (identifiers never enter the derivation).
    const d = derived.get(template)!
    const p = b.perspective
    p[0]!.push(bundleId)
    p[1]!.push(id)
    p[2]!.push(1)
    p[3]!.push(JSON.stringify(d.flags))
    p[4]!.push(d.fitToTravelAssessedAt && !Number.isNaN(Date.parse(d.fitToTravelAssessedAt)) ? new Date(d.fitToTravelAssessedAt).toISOString() : null)
    p[5]!.push(BENCH_URA.gza)
    p[6]!.push('gza')
    p[7]!.push(profession)
    p[8]!.push(uploadedAt.toISOString())

    // The departure task, as createTask stores it.
    const taskId = randomUUID()
    const resource = taskResource(taskId, id, v, plannedStart, taskAt)
    const t = b.task
    t[0]!.push(taskId)
    t[1]!.push(id)
    t[2]!.push(TASK_PARTIES.requester)
    t[3]!.push(TASK_PARTIES.owner)
    t[4]!.push(plannedStart.toISOString())
    t[5]!.push(taskAt.toISOString())
    t[6]!.push(BENCH_CALLERS.regievoerder.sub)
    t[7]!.push(JSON.stringify(resource))
    t[8]!.push('departure')
    t[9]!.push('requested')
    t[10]!.push(1)

    b.seeded.push({ id, n, consentId, bundleId })
  }
  return b
}

/** A new departure task as `createTask` answers and stores it (the shape of canonicalTask). */
function taskResource(id: string, patientId: string, vNummer: string, plannedStart: Date, at: Date) {
  return {
    resourceType: 'Task',
    id,
    meta: { versionId: '1', lastUpdated: at.toISOString() },
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: SYSTEM.taskCode, code: 'departure' }] },
    for: { reference: `Patient/${patientId}`, identifier: { system: SYSTEM.vNummer, value: vNummer } },
    requester: { identifier: { system: SYSTEM.ura, value: TASK_PARTIES.requester } },
    owner: { identifier: { system: SYSTEM.ura, value: TASK_PARTIES.owner } },
    executionPeriod: { start: plannedStart.toISOString() },
    authoredOn: at.toISOString(),
    lastModified: at.toISOString(),
  }
}

export const ENTRY_COUNTS = new Map<BundleTemplate, number>()

let receivedAtColumn: boolean | undefined
async function consentHasReceivedAt(client: pg.ClientBase): Promise<boolean> {
  receivedAtColumn ??=
    (await client.query(`select 1 from information_schema.columns where table_name = 'consent' and column_name = 'received_at'`)).rowCount! > 0
  return receivedAtColumn
}

export async function insertBatch(client: pg.ClientBase, b: Batch): Promise<void> {
  await client.query('begin')
  await client.query(`insert into patient (id, created_at, erased_at) select a, b, null from unnest($1::text[], $2::timestamptz[]) as t(a, b)`, b.patient)
  await client.query(`insert into patient_identifier (system, value, patient_id) select * from unnest($1::text[], $2::text[], $3::text[])`, b.identifier)
  await client.query(
    `insert into patient_key (patient_id, wrapped_key, master_key_id, created_at, destroyed_at)
     select a, b, c, d, null from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) as t(a, b, c, d)`,
    b.key,
  )
  // received_at (when the service received the consent) is `updated_at` of a new consent.
  const receivedAt = (await consentHasReceivedAt(client)) ? ', received_at' : ''
  await client.query(
    `insert into consent (id, patient_id, version, status, recorded_at, withdrawn_at, form_type, form_version, provisions,
        recorded_by_org, recorded_by_user, updated_at, resource, period_start, period_end${receivedAt})
     select a, b, 1, c, d, null, e, f, g::jsonb, h, i, j, k, l, m${receivedAt ? ', j' : ''}
     from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                 $10::timestamptz[], $11::text[], $12::timestamptz[], $13::timestamptz[]) as t(a, b, c, d, e, f, g, h, i, j, k, l, m)`,
    b.consent,
  )
  // The ~40 KB ciphertexts go as one parameter each: a 10 MB array literal parses three times slower.
  const rows = b.bundle[0]!.length
  const values: unknown[] = []
  const tuples: string[] = []
  for (let i = 0; i < rows; i++) {
    const base = values.length
    for (let c = 0; c < 11; c++) values.push(b.bundle[c]![i])
    tuples.push(`(${Array.from({ length: 11 }, (_, c) => `$${base + c + 1}`).join(',')})`)
  }
  await client.query(
    `insert into bundle_version (id, patient_id, version, bundle_type, content, content_bytes, entry_count, uploaded_at,
        uploaded_by_org, uploaded_by_org_type, uploaded_by_user) values ${tuples.join(',')}`,
    values,
  )
  await client.query(
    `insert into perspective (bundle_id, patient_id, version, flags, fit_assessed_at, issuer_org, issuer_org_type, reviewer_role, reviewed_at, erased_at)
     select a, b, c, d::jsonb, e, f, g, h, i, null
     from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
       as t(a, b, c, d, e, f, g, h, i)`,
    b.perspective,
  )
  await client.query(
    `insert into task (id, patient_id, requester_org, owner_org, recipient_orgs, planned_start, handover_method, created_at, created_by,
        updated_at, completed_at, resource, code, status, version)
     select a, b, c, d, '{}'::text[], e, null, f, g, f, null, h::jsonb, i, j, k
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[],
                 $9::text[], $10::text[], $11::int[]) as t(a, b, c, d, e, f, g, h, i, j, k)`,
    b.task,
  )
  // The care relationships those records establish, as recordConsent and createTask add them: the
  // GZA is custodian by its consent, DT&V and DV&O are parties of the departure.
  await client.query(
    `insert into care_relationship (id, patient_id, org, kind, source_type, source_id, established_by_org, established_by_user, started_at, ends_at)
     select gen_random_uuid()::text, c.patient_id, c.recorded_by_org, 'custodian', 'consent', c.id, c.recorded_by_org, c.recorded_by_user, c.recorded_at, null::timestamptz
     from consent c where c.patient_id = any($1::text[])
     union all
     select gen_random_uuid()::text, t.patient_id, o.org, 'task-party', 'task', t.id, t.requester_org, t.created_by, t.created_at, null
     from task t cross join lateral (values (t.requester_org), (t.owner_org)) as o(org) where t.patient_id = any($1::text[])`,
    [b.patient[0]],
  )
  await client.query('commit')
}

/**
 * The kinds of pre-filled audit entries, one per `g % 10`: what a year of handovers leaves in the
 * log (consents, uploads, tasks, many perspective reads, dossier reads, access-log reads).
 */
const AUDIT_KINDS = `(values
  (0, 'consent.record',   'C', 'permit-caregiver',          '${BENCH_CALLERS.gzaDoctor.sub}',     '${BENCH_CALLERS.gzaDoctor.name}',     '${BENCH_URA.gza}',    'gza',            'caregiver',       '${BENCH_CALLERS.gzaDoctor.big}',   'consent',               'handover',           'DIRECT_TREATMENT', 'Consent',    '{"status":"active"}'),
  (1, 'dossier.upload',   'C', 'permit-consent',            '${BENCH_CALLERS.gzaDoctor.sub}',     '${BENCH_CALLERS.gzaDoctor.name}',     '${BENCH_URA.gza}',    'gza',            'caregiver',       '${BENCH_CALLERS.gzaDoctor.big}',   'dossier',               'handover',           'EXPLICIT_CONSENT', 'Bundle',     '{"version":1}'),
  (2, 'task.create',      'C', 'permit-task-create',        '${BENCH_CALLERS.regievoerder.sub}',  '${BENCH_CALLERS.regievoerder.name}',  '${BENCH_URA.dtv}',    'dtv',            'regievoerder',    null,                                'task',                  'handover',           'LEGAL_OBLIGATION', 'Task',       '{"code":"departure","owner":"${BENCH_URA.dvo}"}'),
  (3, 'perspective.read', 'R', 'permit-consent',            '${BENCH_CALLERS.regievoerder.sub}',  '${BENCH_CALLERS.regievoerder.name}',  '${BENCH_URA.dtv}',    'dtv',            'regievoerder',    null,                                'handelingsperspectief', 'action-perspective', 'EXPLICIT_CONSENT', 'Patient',    '{"codes":["fit-to-travel","medical-escort-required"],"bundleVersion":1}'),
  (4, 'perspective.read', 'R', 'permit-consent',            'bench-dvo',                          'Bench DV&O escort',                   '${BENCH_URA.dvo}',    'dvo',            'escort',          null,                                'handelingsperspectief', 'action-perspective', 'EXPLICIT_CONSENT', 'Patient',    '{"codes":["fit-to-travel","medication-accompanies"],"bundleVersion":1}'),
  (5, 'perspective.read', 'R', 'permit-consent',            '${BENCH_CALLERS.regievoerder.sub}',  '${BENCH_CALLERS.regievoerder.name}',  '${BENCH_URA.dtv}',    'dtv',            'regievoerder',    null,                                'handelingsperspectief', 'action-perspective', 'EXPLICIT_CONSENT', 'Patient',    '{"codes":["fit-to-travel"],"bundleVersion":1}'),
  (6, 'perspective.read', 'R', 'permit-caregiver',          '${BENCH_CALLERS.escortNurse.sub}',   '${BENCH_CALLERS.escortNurse.name}',   '${BENCH_URA.escort}', 'medical-escort', 'caregiver',       '${BENCH_CALLERS.escortNurse.big}', 'handelingsperspectief', 'action-perspective', 'DIRECT_TREATMENT', 'Patient',    '{"codes":["fit-to-travel"],"bundleVersion":1}'),
  (7, 'dossier.read',     'R', 'permit-consent',            '${BENCH_CALLERS.escortNurse.sub}',   '${BENCH_CALLERS.escortNurse.name}',   '${BENCH_URA.escort}', 'medical-escort', 'caregiver',       '${BENCH_CALLERS.escortNurse.big}', 'dossier',               'handover',           'EXPLICIT_CONSENT', 'Bundle',     '{"version":1}'),
  (8, 'dossier.read',     'R', 'permit-consent',            '${BENCH_CALLERS.escortNurse.sub}',   '${BENCH_CALLERS.escortNurse.name}',   '${BENCH_URA.escort}', 'medical-escort', 'caregiver',       '${BENCH_CALLERS.escortNurse.big}', 'dossier',               'handover',           'EXPLICIT_CONSENT', 'Bundle',     '{"version":1}'),
  (9, 'audit.read',       'R', 'permit-privacy-officer',    '${BENCH_CALLERS.privacyOfficer.sub}','${BENCH_CALLERS.privacyOfficer.name}','${BENCH_URA.gza}',    'gza',            'privacy-officer', null,                                'audit-log',             'handover',           'LEGAL_OBLIGATION', 'AuditEvent', '{"kind":"access-log","returned":40}')
) as k(no, event_type, action, reason, user_id, user_name, org_id, org_type, role, big_number, data_segment, purpose, legal_basis, resource_type, detail)`

async function prefillAudit(pool: pg.Pool, total: number, patients: SeededPatient[], now: Date, log: (m: string) => void) {
  if (total === 0) return
  // A year of history, one monthly partition per month (as the retention job makes them ahead).
  const start = new Date(now.getTime() - 365 * DAY)
  const end = new Date(now.getTime() - 2 * HOUR)
  for (let m = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1)); m <= end; m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))) {
    await pool.query('select audit_event_create_partition($1::date)', [m.toISOString().slice(0, 10)])
  }
  await pool.query('create table bench_patient_no (no bigint primary key, id text not null)')
  await pool.query('insert into bench_patient_no select o - 1, id from unnest($1::text[]) with ordinality as t(id, o)', [patients.map((p) => p.id)])
  await pool.query('analyze bench_patient_no')
  // Ids are given explicitly (g + base) so two connections can fill in parallel and ids still
  // ascend with time; the sequence is moved past them afterwards.
  const base = Number((await pool.query<{ v: string }>(`select nextval('audit_event_id_seq')::text as v`)).rows[0]!.v)
  const stepMs = (end.getTime() - start.getTime()) / total
  const chunk = 250_000
  const chunks: [number, number][] = []
  for (let from = 0; from < total; from += chunk) chunks.push([from, Math.min(total, from + chunk)])
  let filled = 0
  const worker = async () => {
    const client = await pool.connect()
    try {
      await client.query('set synchronous_commit = off')
      for (let c = chunks.shift(); c; c = chunks.shift()) {
        const [from, to] = c
        // Patient g % n: every patient gets total / n entries spread over the year.
        await client.query(
          `insert into audit_event (id, occurred_at, event_type, action, outcome, reason, user_id, user_name, responsible_user_id, org_id,
              org_type, role, big_number, access_point, patient_id, data_segment, purpose, legal_basis, consent_id, break_glass,
              resource_type, resource_id, request_id, source_system, detail, prev_hash, hash)
           select $6::bigint + g, $1::timestamptz + (g * $2::float8) * interval '1 millisecond', k.event_type, k.action, 'permit', k.reason,
              k.user_id, k.user_name, k.user_id, k.org_id, k.org_type, k.role, k.big_number, '127.0.0.1', p.id, k.data_segment, k.purpose,
              k.legal_basis, null, false, k.resource_type, p.id, md5(g::text || 'request'), 'overdracht', k.detail::jsonb,
              md5((g - 1)::text) || md5((g - 1)::text || 'x'), md5(g::text) || md5(g::text || 'x')
           from generate_series($3::bigint, $4::bigint) as g
           join bench_patient_no p on p.no = g % $5::bigint
           join ${AUDIT_KINDS} on k.no = g % 10`,
          [start.toISOString(), stepMs, from, to - 1, patients.length, base],
        )
        filled += to - from
        if (filled % 1_000_000 === 0 || filled === total) log(`  audit pre-fill: ${filled.toLocaleString('en')} / ${total.toLocaleString('en')} rows`)
      }
    } finally {
      client.release()
    }
  }
  await Promise.all([worker(), worker()])
  await pool.query(`select setval('audit_event_id_seq', $1::bigint)`, [base + total - 1])
  await pool.query('drop table bench_patient_no')
  await ageInstallation(pool, now)
}

/**
 * Makes the partition set that of an installation migrated a year ago rather than today: the
 * migration makes partitions from last month to 12 months ahead of its own run, and the daily
 * retention job keeps the current month and 3 ahead. A year on, months 4-12 ahead do not exist
 * yet; a fresh migration has made them. They are empty, and every query on the whole log (the
 * access log, the chain head) would otherwise also visit them: drop them.
 */
async function ageInstallation(pool: pg.Pool, now: Date) {
  for (let m = 4; m <= 12; m++) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + m, 1))
    const name = `audit_event_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`
    const exists = (await pool.query<{ r: string | null }>('select to_regclass($1)::text as r', [name])).rows[0]?.r
    if (!exists) continue
    const rows = (await pool.query(`select 1 from ${pg.escapeIdentifier(name)} limit 1`)).rowCount === 0 ? [{ empty: true }] : [{ empty: false }]
    if (rows[0]?.empty) await pool.query(`drop table ${pg.escapeIdentifier(name)}`)
  }
}

/** Seeds patients [from, to) on one connection, building the next batch while the last is written. */
export async function seedPatientRange(url: string, from: number, to: number, masterKey: MasterKey, now: Date, progress: (done: number) => void) {
  const templates = bundleTemplates(new Date(now.getTime() - 5 * DAY))
  const derived = new Map<BundleTemplate, ReturnType<typeof derivePerspective>>()
  for (const t of templates) {
    const parsed = JSON.parse(bundleText(t, 0))
    ENTRY_COUNTS.set(t, parsed.entry.length)
    // The uploads happen a few days before now: derive at the upload time, as storePerspective does.
    derived.set(t, derivePerspective(parsed, new Date(now.getTime() - 3 * DAY + 20 * 60_000)))
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const seeded: SeededPatient[] = []
  try {
    await client.query('set synchronous_commit = off')
    let next = buildBatch(from, Math.min(from + BATCH, to), templates, derived, masterKey, now)
    for (let at = from; at < to; at += BATCH) {
      const batch = await next
      const after = at + BATCH
      if (after < to) next = buildBatch(after, Math.min(after + BATCH, to), templates, derived, masterKey, now)
      await insertBatch(client, batch)
      seeded.push(...batch.seeded)
      progress(batch.seeded.length)
    }
  } finally {
    await client.end()
  }
  return seeded
}

/** Runs `seedPatientRange` in a child process (one per core): building rows is CPU work. */
function seedInChild(url: string, from: number, to: number, masterKey: string, now: Date, progress: (n: number) => void): Promise<SeededPatient[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./seed-worker.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_SEED_JOB: JSON.stringify({ url, from, to, masterKey, now: now.toISOString() }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let result: SeededPatient[] | undefined
    child.on('message', (m: { progress?: number; seeded?: SeededPatient[] }) => {
      if (m.progress) progress(m.progress)
      if (m.seeded) result = m.seeded
    })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`seed worker ${from}-${to} exited with ${code}`))))
  })
}

export async function seedDataset(opts: SeedOptions): Promise<SeedResult> {
  const bundleBytes = Buffer.byteLength(bundleText(bundleTemplates(opts.now)[0]!, 0))
  const t0 = performance.now()
  let done = 0
  let reported = 0
  const progress = (n: number) => {
    done += n
    if (done - reported >= 10_000 || done === opts.patients) {
      reported = done
      opts.log(`  patients: ${done.toLocaleString('en')} / ${opts.patients.toLocaleString('en')}`)
    }
  }
  const half = Math.ceil(opts.patients / 2 / BATCH) * BATCH
  const parts = await Promise.all(
    [
      [0, Math.min(half, opts.patients)],
      [Math.min(half, opts.patients), opts.patients],
    ]
      .filter(([a, b]) => b! > a!)
      .map(([a, b]) => seedInChild(opts.url, a!, b!, Buffer.from(opts.masterKey.key).toString('base64'), opts.now, progress)),
  )
  const seeded = parts.flat().sort((a, b) => a.n - b.n)
  const t1 = performance.now()

  const pool = new pg.Pool({ connectionString: opts.url, max: 2 })
  pool.on('error', () => {})
  try {
    await prefillAudit(pool, opts.auditRows, seeded, opts.now, opts.log)
    const t2 = performance.now()
    // As after any bulk load: statistics and the visibility map, so autovacuum does not start
    // working through the fresh rows in the middle of a measurement.
    await pool.query('vacuum (analyze)')
    const t3 = performance.now()
    const last = await pool.query<{ id: string; hash: string }>('select a.id::text as id, a.hash from audit_event a order by a.id desc limit 1')
    return {
      patients: seeded,
      lastPrefill: last.rows[0] ?? { id: '0', hash: '' },
      seconds: { patients: (t1 - t0) / 1000, audit: (t2 - t1) / 1000, vacuum: (t3 - t2) / 1000 },
      bundleBytes,
    }
  } finally {
    await pool.end()
  }
}
