import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Executor } from '../db/executor.js'

export interface PatientIdentifier {
  system: string
  value: string
}

/** The distinct patients the given identifiers point to (erased patients included). */
export async function findPatientIdsByIdentifiers(db: Executor, identifiers: readonly PatientIdentifier[]): Promise<string[]> {
  return [...new Set((await findIdentifierHolders(db, identifiers)).map((r) => r.patient_id))]
}

/** Which patient holds each of the given identifiers that some patient holds (erased patients included). */
export async function findIdentifierHolders(db: Executor, identifiers: readonly PatientIdentifier[]) {
  if (identifiers.length === 0) return []
  return db
    .selectFrom('patient_identifier')
    .select(['patient_id', 'system', 'value'])
    .where((eb) => eb.or(identifiers.map((i) => eb.and([eb('system', '=', i.system), eb('value', '=', i.value)]))))
    .execute()
}

export const findPatient = (db: Executor, id: string) =>
  db.selectFrom('patient').selectAll().where('id', '=', id).where('erased_at', 'is', null).executeTakeFirst()

/** The patient's record, erased or not: the audit log outlives erasure. */
export const findPatientRecord = (db: Executor, id: string) => db.selectFrom('patient').selectAll().where('id', '=', id).executeTakeFirst()

export const lockPatient = (db: Executor, id: string) =>
  db.selectFrom('patient').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

export const listPatientIdentifiers = (db: Executor, patientId: string) =>
  db.selectFrom('patient_identifier').select(['system', 'value']).where('patient_id', '=', patientId).orderBy('system').execute()

export async function insertPatient(db: Executor, now: Date): Promise<string> {
  const id = randomUUID()
  await db.insertInto('patient').values({ id, created_at: now, erased_at: null }).execute()
  return id
}

/** Adds identifiers to a patient; one already held by any patient is left as it is. */
export async function addPatientIdentifiers(db: Executor, patientId: string, identifiers: readonly PatientIdentifier[]) {
  if (identifiers.length === 0) return
  await db
    .insertInto('patient_identifier')
    .values(identifiers.map((i) => ({ ...i, patient_id: patientId })))
    .onConflict((oc) => oc.columns(['system', 'value']).doNothing())
    .execute()
}

/**
 * The patient an identifier names, created on first mention. Concurrent first mentions of the same
 * identifier are serialised by an advisory lock on it, so exactly one patient is created. Call
 * inside a transaction.
 */
export async function findOrCreatePatient(trx: Executor, identifier: PatientIdentifier, now: Date): Promise<string> {
  await sql`select pg_advisory_xact_lock(hashtext(${`${identifier.system}|${identifier.value}`}))`.execute(trx)
  const existing = (await findPatientIdsByIdentifiers(trx, [identifier]))[0]
  if (existing) return existing
  const id = await insertPatient(trx, now)
  await addPatientIdentifiers(trx, id, [identifier])
  return id
}
