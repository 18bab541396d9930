import type { Insertable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { ConsentTable } from '../db/schema.js'
export { consentFactsOfPatient, listConsentsOfPatient, rowToConsentFact, storedProvisions } from '../access/facts.js'

export const insertConsent = (db: Executor, row: Insertable<ConsentTable>) => db.insertInto('consent').values(row).execute()

export const findConsent = (db: Executor, id: string) =>
  db.selectFrom('consent').selectAll().where('id', '=', id).executeTakeFirst()

export const lockConsent = (db: Executor, id: string) =>
  db.selectFrom('consent').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

export const markConsentWithdrawn = (db: Executor, id: string, now: Date, version: number, resource: string) =>
  db
    .updateTable('consent')
    .set({ status: 'inactive', withdrawn_at: now, updated_at: now, version, resource })
    .where('id', '=', id)
    .execute()

