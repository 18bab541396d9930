import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { verifyAuditChain } from '../src/audit/audit-verify.js'
import { consentResource, handoverBundle, newVNummer } from './support/fhir-builders.js'
import { createTestApp, type TestApp } from './support/test-app.js'

const apps: TestApp[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()))
})

/** An app with some history: a consent, an upload, reads permitted and denied. */
async function appWithHistory(): Promise<TestApp> {
  const t = await createTestApp()
  apps.push(t)
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(consent.status, await consent.clone().text()).toBe(201)
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
  expect(upload.status, await upload.clone().text()).toBe(201)
  const { id } = (await upload.json()) as { id: string }
  for (const as of ['escortNurse', 'regievoerder', 'djiNurse', 'escortNurse'] as const) {
    await t.get(`/fhir/Bundle/${id}`, { as, headers: { 'x-consent-token': consent.headers.get('x-consent-token')! } })
  }
  return t
}

/** Does what only a database superuser can: with triggers off, it rewrites history directly in SQL. */
async function tamper(t: TestApp, statement: string) {
  await t.db.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx)
    await sql.raw(statement).execute(trx)
  })
}

const ids = async (t: TestApp) => (await t.db.selectFrom('audit_event').select('id').orderBy('id').execute()).map((r) => String(r.id))

describe('the audit log is append-only in the database', () => {
  it.each([
    ['update', "update audit_event set reason = 'nothing to see'"],
    ['delete', 'delete from audit_event'],
    ['truncate', 'truncate audit_event'],
    ['truncate of a month partition', 'truncate audit_event_y2026m11'],
    ['update of a month partition', "update audit_event_y2026m11 set reason = 'x'"],
  ])('the application database role cannot %s audit rows', async (_what, statement) => {
    const t = await appWithHistory()
    const before = await ids(t)
    await expect(sql.raw(statement).execute(t.db)).rejects.toThrow(/append-only/)
    expect(await ids(t)).toEqual(before)
  })

  it('every entry lands in its month partition', async () => {
    const t = await appWithHistory()
    const { rows } = await sql<{ part: string; n: number }>`select tableoid::regclass::text as part, count(*)::int as n from audit_event group by 1`.execute(t.db)
    expect(rows.map((r) => r.part)).toEqual(['audit_event_y2026m11'])
  })
})

describe('npm run audit:verify finds tampering', () => {
  it('an untouched chain verifies', async () => {
    const t = await appWithHistory()
    const result = await verifyAuditChain(t.db, t.deps.auditKey)
    expect(result).toEqual({ ok: true, entries: (await ids(t)).length })
    expect(result.entries).toBeGreaterThanOrEqual(6)
  })

  it('a changed entry is named', async () => {
    const t = await appWithHistory()
    const target = (await ids(t))[3]!
    await tamper(t, `update audit_event set user_id = 'someone-else' where id = ${target}`)
    const result = await verifyAuditChain(t.db, t.deps.auditKey)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.problem).toMatchObject({ id: target, problem: 'changed' })
      expect(result.entries).toBe(3)
    }
  })

  it('a removed entry is found at the entry after the gap', async () => {
    const t = await appWithHistory()
    const all = await ids(t)
    await tamper(t, `delete from audit_event where id = ${all[2]}`)
    const result = await verifyAuditChain(t.db, t.deps.auditKey)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.problem).toMatchObject({ id: all[3], problem: 'out-of-chain' })
  })

  it('an inserted entry is named', async () => {
    const t = await appWithHistory()
    const all = await ids(t)
    // A careful forger links the new entry to the last one; only the chain key is missing.
    const prev = await t.db.selectFrom('audit_event').select('hash').where('id', '=', all.at(-1)!).executeTakeFirstOrThrow()
    await tamper(
      t,
      `insert into audit_event (occurred_at, event_type, action, outcome, reason, user_id, responsible_user_id, org_id, org_type, role, access_point, data_segment, purpose, request_id, source_system, prev_hash, hash)
       values (now(), 'dossier.read', 'R', 'permit', 'permit-consent', 'ghost', 'ghost', 'x', 'gza', 'caregiver', 'x', 'dossier', 'handover', 'x', 'overdracht', '${prev.hash}', '${'f'.repeat(64)}')`,
    )
    const result = await verifyAuditChain(t.db, t.deps.auditKey)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.problem.problem).toBe('changed')
    const inserted = await t.db.selectFrom('audit_event').select('id').where('user_id', '=', 'ghost').executeTakeFirstOrThrow()
    if (!result.ok) expect(result.problem.id).toBe(String(inserted.id))
  })

  it('the chain cannot be verified, and so not forged, without the key', async () => {
    const t = await appWithHistory()
    const result = await verifyAuditChain(t.db, new Uint8Array(32))
    expect(result.ok).toBe(false)
  })
})
