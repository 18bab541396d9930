import type { Insertable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { PerspectiveTable } from '../db/schema.js'

export const insertPerspective = (db: Executor, row: Insertable<PerspectiveTable>) => db.insertInto('perspective').values(row).execute()

/** The perspective of the patient's current dossier version; reading it never decrypts a dossier. */
export const findCurrentPerspective = (db: Executor, patientId: string) =>
  db
    .selectFrom('perspective')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('erased_at', 'is', null)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst()
