import type { Insertable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { ConsentTable } from '../db/schema.js'
export { consentFactsOfPatient, listConsentsOfPatient, rowToConsentFact, storedProvisions } from '../access/facts.js'

/** Stores a new consent and its first version. */
export async function insertConsent(db: Executor, row: Insertable<ConsentTable>) {
  await db.insertInto('consent').values(row).execute()
  await db.insertInto('consent_version').values({ consent_id: row.id, version: row.version, recorded_at: row.updated_at, resource: row.resource ?? null }).execute()
}

/** One version of a consent (encrypted), or every version newest first. */
export const findConsentVersion = (db: Executor, id: string, version: number) =>
  db.selectFrom('consent_version').selectAll().where('consent_id', '=', id).where('version', '=', version).executeTakeFirst()
export const listConsentVersions = (db: Executor, id: string) =>
  db.selectFrom('consent_version').selectAll().where('consent_id', '=', id).orderBy('version', 'desc').execute()

export const findConsent = (db: Executor, id: string) =>
  db.selectFrom('consent').selectAll().where('id', '=', id).executeTakeFirst()

export const lockConsent = (db: Executor, id: string) =>
  db.selectFrom('consent').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

export async function markConsentWithdrawn(db: Executor, id: string, now: Date, version: number, resource: string) {
  await db.updateTable('consent').set({ status: 'inactive', withdrawn_at: now, updated_at: now, version, resource }).where('id', '=', id).execute()
  await db.insertInto('consent_version').values({ consent_id: id, version, recorded_at: now, resource }).execute()
}

