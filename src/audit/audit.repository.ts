import type { Db } from '../db/database.js'
import type { NewAuditEvent } from '../db/schema.js'
import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../db/schema.js'

export type Executor = Kysely<Database> | Transaction<Database>

export async function insertAuditEvent(db: Executor, event: NewAuditEvent): Promise<void> {
  await db.insertInto('audit_event').values(event).execute()
}

export const countAuditEvents = async (db: Db) =>
  Number((await db.selectFrom('audit_event').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
