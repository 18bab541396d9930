import type { Executor } from '../db/executor.js'

export const findPatientKey = (db: Executor, patientId: string) =>
  db.selectFrom('patient_key').selectAll().where('patient_id', '=', patientId).executeTakeFirst()

export const insertPatientKey = (db: Executor, patientId: string, wrappedKey: string, masterKeyId: string, now: Date) =>
  db
    .insertInto('patient_key')
    .values({ patient_id: patientId, wrapped_key: wrappedKey, master_key_id: masterKeyId, created_at: now, destroyed_at: null })
    .execute()

/**
 * Crypto-shredding: the wrapped data key is overwritten, so the ciphertext in this database becomes
 * noise. A backup from before holds the wrapped key too, until it expires (docs/operations.md).
 */
export const destroyPatientKey = (db: Executor, patientId: string, now: Date) =>
  db.updateTable('patient_key').set({ wrapped_key: null, destroyed_at: now }).where('patient_id', '=', patientId).execute()
