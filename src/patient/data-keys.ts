import type { Executor } from '../db/executor.js'
import { findPatientKey, insertPatientKey } from './patient-key.repository.js'
import { newDataKey, unwrapDataKey, wrapDataKey, type MasterKey } from './envelope.js'

export class DataKeyDestroyedError extends Error {
  constructor() {
    super('the patient data key has been destroyed')
    this.name = 'DataKeyDestroyedError'
  }
}

/** The patient's data key, made on first use. Call inside the transaction that holds the patient lock. */
export async function dataKeyForWriting(db: Executor, master: MasterKey, patientId: string, now: Date): Promise<Uint8Array> {
  const row = await findPatientKey(db, patientId)
  if (row) {
    if (row.wrapped_key === null) throw new DataKeyDestroyedError()
    return unwrapDataKey(row.wrapped_key, master, patientId)
  }
  const key = newDataKey()
  await insertPatientKey(db, patientId, await wrapDataKey(key, master, patientId), master.id, now)
  return key
}

/** The patient's data key for reading, or undefined when it never existed or was destroyed. */
export async function dataKeyForReading(db: Executor, master: MasterKey, patientId: string): Promise<Uint8Array | undefined> {
  const row = await findPatientKey(db, patientId)
  if (!row?.wrapped_key) return undefined
  return unwrapDataKey(row.wrapped_key, master, patientId)
}
