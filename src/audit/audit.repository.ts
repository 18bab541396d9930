import { sql, type Kysely, type Transaction } from 'kysely'
import type { Db } from '../db/database.js'
import type { Database, NewAuditEvent } from '../db/schema.js'
import { entryHash, GENESIS_HASH } from './audit-chain.js'

export type Executor = Kysely<Database> | Transaction<Database>

/** Serialises writers of the chain; held until the writer's transaction ends. */
const CHAIN_LOCK = 7513

/**
 * Appends an entry to the hash chain. Inside the caller's transaction when it has one, so the
 * entry commits with the action it records, or neither does.
 */
export async function insertAuditEvent(db: Executor, key: Uint8Array, event: Omit<NewAuditEvent, 'id' | 'prev_hash' | 'hash'>): Promise<void> {
  if (!db.isTransaction) {
    await db.transaction().execute((trx) => insertAuditEvent(trx, key, event))
    return
  }
  await sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(db)
  const last = await db.selectFrom('audit_event').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst()
  const { rows } = await sql<{ id: string }>`select nextval('audit_event_id_seq')::text as id`.execute(db)
  const id = rows[0]!.id
  const prevHash = last?.hash ?? GENESIS_HASH
  const detail = event.detail === null || event.detail === undefined ? null : JSON.parse(event.detail as string)
  const occurredAt = new Date(event.occurred_at as Date)
  const hash = entryHash(key, prevHash, {
    ...(event as Required<typeof event>),
    id,
    occurred_at: occurredAt,
    user_name: event.user_name ?? null,
    big_number: event.big_number ?? null,
    patient_id: event.patient_id ?? null,
    legal_basis: event.legal_basis ?? null,
    consent_id: event.consent_id ?? null,
    break_glass: event.break_glass ?? false,
    resource_type: event.resource_type ?? null,
    resource_id: event.resource_id ?? null,
    detail,
  })
  await db
    .insertInto('audit_event')
    .values({ ...event, id, occurred_at: occurredAt, prev_hash: prevHash, hash } as NewAuditEvent)
    .execute()
}

export const countAuditEvents = async (db: Db) =>
  Number((await db.selectFrom('audit_event').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

/** A page of the chain in id order, for verification. */
export const auditChainPage = (db: Executor, afterId: string | undefined, limit: number) => {
  let q = db.selectFrom('audit_event').selectAll().orderBy('id', 'asc').limit(limit)
  if (afterId !== undefined) q = q.where('id', '>', afterId)
  return q.execute()
}
