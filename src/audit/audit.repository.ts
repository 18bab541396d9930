import { sql, type Kysely, type Transaction } from 'kysely'
import { isDatabaseUnavailable, type Db } from '../db/database.js'
import type { Database, NewAuditEvent } from '../db/schema.js'
import { entryHash, GENESIS_HASH } from './audit-chain.js'

import type { Executor } from '../db/executor.js'

export type { Executor }

/** Serialises writers of the chain; held until the writer's transaction ends. */
const CHAIN_LOCK = 7513
/** Most entries one group commit writes. */
const MAX_GROUP = 256

type NewEntry = Omit<NewAuditEvent, 'id' | 'prev_hash' | 'hash'>
interface Entry {
  key: Uint8Array
  event: NewEntry
}

/**
 * Appends an entry to the hash chain. Inside the caller's transaction when it has one, so the
 * entry commits with the action it records, or neither does. Without one, the entry joins the
 * next group commit of this database handle (see `ChainWriter`); either way the promise settles
 * only when the entry's transaction has committed (or failed).
 */
export async function insertAuditEvent(db: Executor, key: Uint8Array, event: NewEntry): Promise<void> {
  if (!db.isTransaction) return chainWriterOf(db).append({ key, event })
  await appendToChain(db as Transaction<Database>, [{ key, event }])
}

/**
 * Appends entries to the chain, in order, inside `trx`: takes the chain lock, reads the head and
 * draws the ids in one statement (after the lock, so it sees the last committed entry), computes
 * each entry's hash from the one before, and inserts them all in one statement.
 */
async function appendToChain(trx: Transaction<Database>, entries: readonly Entry[]): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(trx)
  const { rows } = await sql<{ hash: string | null; ids: string[] }>`
    select (select hash from audit_event order by id desc limit 1) as hash,
           array(select nextval('audit_event_id_seq')::text from generate_series(1, ${entries.length}::int)) as ids`.execute(trx)
  const ids = [...rows[0]!.ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
  let prevHash = rows[0]!.hash ?? GENESIS_HASH
  const values = entries.map(({ key, event }, i) => {
    const id = ids[i]!
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
    const row = { ...event, id, occurred_at: occurredAt, prev_hash: prevHash, hash } as NewAuditEvent
    prevHash = hash
    return row
  })
  await trx.insertInto('audit_event').values(values).execute()
}

/**
 * Group commit for entries written outside a transaction (most reads and every refusal). The
 * chain lock serialises writers, so each append pays the lock's critical section: lock, head,
 * insert and the commit's WAL flush. Entries that arrive while a group is being written wait for
 * the next group; each group is one transaction, so one critical section and one flush serve them
 * all. Nothing waits for a timer: a lone entry is written at once. Every caller's promise resolves
 * only after its group has committed: durability is as before. When a group fails, its entries are
 * retried one by one, so one bad entry fails only its own request.
 */
class ChainWriter {
  private queue: (Entry & { resolve: () => void; reject: (err: unknown) => void })[] = []
  private running = false

  constructor(private readonly db: Kysely<Database>) {}

  private async commit(group: readonly Entry[]): Promise<void> {
    const started = performance.now()
    try {
      await this.db.transaction().execute((trx) => appendToChain(trx, group))
      observers.get(this.db)?.(group.length, (performance.now() - started) / 1000, 'committed')
    } catch (err) {
      observers.get(this.db)?.(group.length, (performance.now() - started) / 1000, 'failed')
      throw err
    }
  }

  append(entry: Entry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...entry, resolve, reject })
      if (!this.running) void this.run()
    })
  }

  private async run(): Promise<void> {
    this.running = true
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, MAX_GROUP)
        try {
          await this.commit(group)
          for (const p of group) p.resolve()
        } catch (err) {
          // Retried one by one so that one bad entry fails only its own request; not when the
          // database could not serve (a lost connection, a statement timeout): every retry would
          // wait again, one statement timeout after the other, and fail the same way.
          if (group.length === 1 || isDatabaseUnavailable(err)) {
            for (const p of group) p.reject(err)
            continue
          }
          for (const p of group) {
            try {
              await this.commit([p])
              p.resolve()
            } catch (e) {
              p.reject(e)
            }
          }
        }
      }
    } finally {
      this.running = false
    }
  }
}

const writers = new WeakMap<Kysely<Database>, ChainWriter>()

export type AuditCommitObserver = (entries: number, seconds: number, outcome: 'committed' | 'failed') => void
const observers = new WeakMap<Kysely<Database>, AuditCommitObserver>()

/** Tells `observer` of every group commit on `db` (for metrics). */
export function observeAuditCommits(db: Kysely<Database>, observer: AuditCommitObserver): void {
  observers.set(db, observer)
}

function chainWriterOf(db: Kysely<Database>): ChainWriter {
  let writer = writers.get(db)
  if (!writer) {
    writer = new ChainWriter(db)
    writers.set(db, writer)
  }
  return writer
}

export const countAuditEvents = async (db: Db) =>
  Number((await db.selectFrom('audit_event').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

/** A page of the chain in id order, for verification. */
export const auditChainPage = (db: Executor, afterId: string | undefined, limit: number) => {
  let q = db.selectFrom('audit_event').selectAll().orderBy('id', 'asc').limit(limit)
  if (afterId !== undefined) q = q.where('id', '>', afterId)
  return q.execute()
}

/**
 * The read receipts of a patient's dossier: permitted `dossier.read` entries of organisations
 * other than `ownOrg`, as the organisation, its type and the time only (newest first).
 */
export const listDossierOpens = (db: Executor, patientId: string, ownOrg: string, limit: number) =>
  db
    .selectFrom('audit_event')
    .select(['org_id', 'org_type', 'occurred_at'])
    .where('patient_id', '=', patientId)
    .where('event_type', '=', 'dossier.read')
    .where('outcome', '=', 'permit')
    .where('org_id', '<>', ownOrg)
    .orderBy('occurred_at', 'desc')
    .limit(limit)
    .execute()
