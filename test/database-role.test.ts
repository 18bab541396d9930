import { randomBytes } from 'node:crypto'
import { createMetrics } from '../src/metrics/metrics.js'
import { readFileSync } from 'node:fs'
import type { Bundle } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { deriveAuditKey } from '../src/audit/audit-chain.js'
import { createBigVerifier } from '../src/big/cached-register.js'
import { createRecordsBigRegister } from '../src/big/file-register.js'
import { FixedClock } from '../src/clock.js'
import { createFhirValidator } from '../src/fhir/validation-pool.js'
import { createConsentKeyRing } from '../src/consent/consent-keys.js'
import { openDatabase, type Db } from '../src/db/database.js'
import { DEFAULT_SETTINGS, type Deps } from '../src/deps.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { parseMasterKey } from '../src/patient/envelope.js'
import { erasePatientData } from '../src/retention/erasure.js'
import { runRetentionIfDue } from '../src/retention/retention.service.js'
import { consentResource, handoverBundle, newVNummer } from './support/fhir-builders.js'
import { createTestIdentityProvider, type TestIdentityProvider } from './support/identity.js'
import { BIG_RECORDS, CALLERS, type CallerName } from './support/people.js'
import { createTestDatabase, usingServer } from './support/test-db.js'

/*
 * The service under the database role SECURITY.md prescribes: not the schema owner, no UPDATE or
 * DELETE on the audit log. The role is made by running SECURITY.md's own statements (with a name
 * of this run), so the test follows the document. Real PostgreSQL only: embedded PostgreSQL has
 * one user.
 */

/** The SQL block of SECURITY.md's "A database role for the service", for `role`. */
function securityMdRoleSetup(role: string, password: string): string {
  const doc = readFileSync(new URL('../SECURITY.md', import.meta.url), 'utf8')
  const section = doc.slice(doc.indexOf('### A database role for the service'))
  const block = /```sql\n([\s\S]*?)```/.exec(section)?.[1]
  if (!block) throw new Error('SECURITY.md has no sql block under "A database role for the service"')
  expect(block).toContain("login password '...'")
  return block.replaceAll('overdracht_app', role).replace("password '...'", `password '${password}'`)
}

/** The SQLSTATE of a failed statement, or undefined when it succeeded. */
async function sqlState(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run()
    return undefined
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

const monthsFrom = (start: Date, count: number) =>
  Array.from({ length: count }, (_, m) => {
    const d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + m, 1))
    return `audit_event_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`
  })

describe.skipIf(!usingServer())('the service under the non-owner database role of SECURITY.md', () => {
  const role = `overdracht_app_${randomBytes(5).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let owner: pg.Client
  let roleDb: Db
  let deps: Deps
  let app: ReturnType<typeof createApp>
  let idp: TestIdentityProvider
  const clock = new FixedClock('2026-11-24T09:00:00Z')

  beforeAll(async () => {
    // Migrated by the owner (the server's superuser here), as in a deployment.
    database = await createTestDatabase()
    owner = new pg.Client({ connectionString: database.url })
    await owner.connect()
    await owner.query(securityMdRoleSetup(role, password))

    const url = new URL(database.url!)
    url.username = role
    url.password = password
    roleDb = await openDatabase({ kind: 'server', url: url.toString(), poolSize: 3 })
    const masterKey = parseMasterKey(randomBytes(32).toString('base64'))
    idp = await createTestIdentityProvider(clock)
    deps = {
      db: roleDb,
      clock,
      logger: pino({ level: 'silent' }),
      callerKeys: idp.callerKeys,
      masterKey,
      auditKey: deriveAuditKey(masterKey.key),
      bigVerifier: createBigVerifier({ register: createRecordsBigRegister(BIG_RECORDS), clock }),
      consentKeys: createConsentKeyRing(roleDb, masterKey, clock),
      validator: createFhirValidator({ threads: 0 }),
      metrics: createMetrics({ db: roleDb }),
      settings: DEFAULT_SETTINGS,
    }
    app = createApp(deps)
  })

  afterAll(async () => {
    await roleDb?.destroy()
    await owner?.end()
    await database?.drop()
    // The role's privileges went with the database; the role itself is cluster-wide.
    const server = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
    await server.connect()
    try {
      await server.query(`drop role if exists ${role}`)
    } finally {
      await server.end()
    }
  })

  const post = async (path: string, as: CallerName, body: unknown) =>
    app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${await idp.token({ ...CALLERS[as] })}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(body),
    })

  /** A patient with a consent and a dossier, written by the service as the role. */
  async function patientWithDossier(): Promise<string> {
    const vNummer = newVNummer()
    const consent = await post('/fhir/Consent', 'gzaDoctor', consentResource({ vNummer }))
    expect(consent.status, await consent.text()).toBe(201)
    const upload = await post('/fhir/Bundle', 'gzaDoctor', handoverBundle(vNummer))
    expect(upload.status, await upload.text()).toBe(201)
    const row = await roleDb
      .selectFrom('patient_identifier')
      .select('patient_id')
      .where('system', '=', SYSTEM.vNummer)
      .where('value', '=', vNummer)
      .executeTakeFirstOrThrow()
    return row.patient_id
  }

  it('the service connects as a role that neither owns audit_event nor is a superuser', async () => {
    const { rows } = await sql<{ me: string; owner: string; superuser: boolean }>`
      select current_user as me, pg_get_userbyid(c.relowner) as owner, r.rolsuper as superuser
      from pg_class c, pg_roles r where c.oid = 'audit_event'::regclass and r.rolname = current_user`.execute(roleDb)
    expect(rows[0]?.me).toBe(role)
    expect(rows[0]?.owner).not.toBe(role)
    expect(rows[0]?.superuser).toBe(false)
  })

  it('the retention job makes the coming months\' audit partitions beyond the ones the migration made', async () => {
    const patientId = await patientWithDossier()
    // Years on: the partitions the migration made ahead have run out.
    clock.set('2029-01-15T03:00:00Z')
    const wanted = monthsFrom(clock.now(), 4)
    const before = await sql<{ name: string }>`select relname as name from pg_class where relname = any(${wanted})`.execute(roleDb)
    expect(before.rows).toEqual([])

    const result = await runRetentionIfDue(deps)
    expect(result).toMatchObject({ ran: true, partitionsEnsured: 4 })
    expect(result.erasedPatients).toBeGreaterThanOrEqual(1)

    const after = await sql<{ name: string }>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'audit_event'::regclass and c.relname = any(${wanted}) order by 1`.execute(roleDb)
    expect(after.rows.map((r) => r.name)).toEqual(wanted)
    // The run's own audit entry went into this month's new partition, not the default one.
    const { rows } = await sql<{ partition: string }>`
      select tableoid::regclass::text as partition from audit_event where event_type = 'retention.run'`.execute(roleDb)
    expect(rows.map((r) => r.partition)).toEqual([wanted[0]])
    const patient = await roleDb.selectFrom('patient').select('erased_at').where('id', '=', patientId).executeTakeFirstOrThrow()
    expect(patient.erased_at).not.toBeNull()
  })

  it('erasing a patient works: data key destroyed, dossier and identifiers gone, audit entries kept', async () => {
    const patientId = await patientWithDossier()
    const auditBefore = await roleDb.selectFrom('audit_event').select('id').where('patient_id', '=', patientId).execute()
    expect(auditBefore.length).toBeGreaterThan(0)

    const { bundles } = await roleDb.transaction().execute((trx) => erasePatientData(trx, patientId, clock.now()))
    expect(bundles).toBe(1)

    const key = await roleDb.selectFrom('patient_key').selectAll().where('patient_id', '=', patientId).executeTakeFirstOrThrow()
    expect(key.wrapped_key).toBeNull()
    const contents = await roleDb.selectFrom('bundle_version').select('content').where('patient_id', '=', patientId).execute()
    expect(contents).toEqual([{ content: null }])
    expect(await roleDb.selectFrom('patient_identifier').selectAll().where('patient_id', '=', patientId).execute()).toEqual([])
    const auditAfter = await roleDb.selectFrom('audit_event').select('id').where('patient_id', '=', patientId).execute()
    expect(auditAfter).toEqual(auditBefore)
  })

  it('the role cannot update, delete, truncate or detach the audit log, through the table or a partition', async () => {
    await patientWithDossier()
    const { rows } = await sql<{ partition: string }>`
      select tableoid::regclass::text as partition from audit_event order by id desc limit 1`.execute(roleDb)
    const partition = sql.table(rows[0]!.partition)
    const attempts = {
      update: () => sql`update audit_event set reason = 'rewritten'`.execute(roleDb),
      delete: () => sql`delete from audit_event`.execute(roleDb),
      truncate: () => sql`truncate audit_event`.execute(roleDb),
      'update of a partition': () => sql`update ${partition} set reason = 'rewritten'`.execute(roleDb),
      'delete from a partition': () => sql`delete from ${partition}`.execute(roleDb),
      'truncate of a partition': () => sql`truncate ${partition}`.execute(roleDb),
      'detach of a partition': () => sql`alter table audit_event detach partition ${partition}`.execute(roleDb),
      'drop of a partition': () => sql`drop table ${partition}`.execute(roleDb),
      'disabling the trigger': () => sql`alter table audit_event disable trigger audit_event_no_update_delete`.execute(roleDb),
    }
    const states = Object.fromEntries(await Promise.all(Object.entries(attempts).map(async ([name, run]) => [name, await sqlState(run)])))
    expect(states).toEqual(Object.fromEntries(Object.keys(attempts).map((name) => [name, '42501'])))
    const count = await sql<{ n: string }>`select count(*) as n from audit_event where reason = 'rewritten'`.execute(roleDb)
    expect(count.rows[0]?.n).toBe('0')
    // Not only the triggers: the role holds no such privilege on the table or any partition.
    const privileged = await sql<{ name: string }>`
      select c.relname as name from pg_class c
      where (c.oid = 'audit_event'::regclass or c.oid in (select inhrelid from pg_inherits where inhparent = 'audit_event'::regclass))
        and has_table_privilege(current_user, c.oid, 'UPDATE, DELETE, TRUNCATE')`.execute(roleDb)
    expect(privileged.rows).toEqual([])
  })

  it('the partition function runs as its owner with a fixed search_path, and PUBLIC may not call it', async () => {
    const { rows } = await sql<{ definer: boolean; config: string[] | null; owner: string; public: boolean; mine: boolean }>`
      select p.prosecdef as definer, p.proconfig as config, pg_get_userbyid(p.proowner) as owner,
        exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE') as public,
        has_function_privilege(current_user, p.oid, 'execute') as mine
      from pg_proc p where p.oid = 'audit_event_create_partition(date)'::regprocedure`.execute(roleDb)
    expect(rows[0]).toMatchObject({ definer: true, config: ['search_path=public, pg_temp'], public: false, mine: true })
    const tableOwner = await sql<{ owner: string }>`select pg_get_userbyid(relowner) as owner from pg_class where oid = 'audit_event'::regclass`.execute(roleDb)
    expect(rows[0]?.owner).toBe(tableOwner.rows[0]?.owner)
  })
})
