import type { Executor } from '../db/executor.js'
import type { Insertable } from 'kysely'
import type { BundleVersionTable } from '../db/schema.js'

export const insertBundleVersion = (db: Executor, row: Insertable<BundleVersionTable>) =>
  db.insertInto('bundle_version').values(row).execute()

export async function nextBundleVersion(db: Executor, patientId: string): Promise<number> {
  const row = await db
    .selectFrom('bundle_version')
    .select((eb) => eb.fn.max('version').as('max'))
    .where('patient_id', '=', patientId)
    .executeTakeFirst()
  return Number(row?.max ?? 0) + 1
}

export const findBundleVersion = (db: Executor, id: string) =>
  db.selectFrom('bundle_version').selectAll().where('id', '=', id).where('content', 'is not', null).executeTakeFirst()

export const findCurrentBundleVersion = (db: Executor, patientId: string) =>
  db
    .selectFrom('bundle_version')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('content', 'is not', null)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst()

export const countBundleVersions = async (db: Executor) =>
  Number((await db.selectFrom('bundle_version').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

/** The patient's stored dossier versions, newest first: version, when and by which organisation (no content). */
export const listBundleVersions = (db: Executor, patientId: string) =>
  db
    .selectFrom('bundle_version')
    .select(['version', 'uploaded_at', 'uploaded_by_org', 'uploaded_by_org_type'])
    .where('patient_id', '=', patientId)
    .where('content', 'is not', null)
    .orderBy('version', 'desc')
    .execute()
