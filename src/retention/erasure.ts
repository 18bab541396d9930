import { sql } from 'kysely'
import type { Executor } from '../db/executor.js'
import { deleteShortCodesOfPatient } from '../consent/short-code.js'
import { destroyPatientKey } from '../patient/patient-key.repository.js'

/**
 * Erases a patient's exchange copies: the data key is destroyed (every bundle, consent form and
 * emergency reason encrypted with it becomes noise wherever the key row is gone; a backup taken
 * before the erasure still holds the wrapped key: docs/operations.md), ciphertexts and the derived
 * perspective are tombstoned, identifiers are removed so the patient can no longer be found, and
 * tasks lose the V-nummer. Audit entries stay. Call inside a transaction.
 */
export async function erasePatientData(trx: Executor, patientId: string, now: Date): Promise<{ bundles: number }> {
  await sql`select id from patient where id = ${patientId} for update`.execute(trx)
  await destroyPatientKey(trx, patientId, now)
  const bundles = await trx.updateTable('bundle_version').set({ content: null }).where('patient_id', '=', patientId).where('content', 'is not', null).executeTakeFirst()
  await trx.updateTable('perspective').set({ erased_at: now, flags: '[]' }).where('patient_id', '=', patientId).execute()
  await trx.updateTable('consent').set({ resource: null }).where('patient_id', '=', patientId).execute()
  await sql`update consent_version set resource = null where consent_id in (select id from consent where patient_id = ${patientId})`.execute(trx)
  await trx.updateTable('emergency_access').set({ reason: null }).where('patient_id', '=', patientId).execute()
  await trx.deleteFrom('patient_identifier').where('patient_id', '=', patientId).execute()
  await deleteShortCodesOfPatient(trx, patientId)
  await sql`update task set resource = resource #- '{for,identifier}' where patient_id = ${patientId}`.execute(trx)
  await sql`update task_version set resource = resource #- '{for,identifier}' where task_id in (select id from task where patient_id = ${patientId})`.execute(trx)
  await trx.updateTable('patient').set({ erased_at: now }).where('id', '=', patientId).execute()
  return { bundles: Number(bundles.numUpdatedRows) }
}

/**
 * Patients whose exchange copies have expired: something left to erase (a dossier version or a
 * consent form), no open task, and their last activity (upload, consent, task change) more than
 * the retention period back. With `patientId`, checks that one patient only.
 */
export async function findExpiredPatients(db: Executor, cutoff: Date, limit: number, patientId?: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select p.id from patient p
    where p.erased_at is null
      ${patientId ? sql`and p.id = ${patientId}` : sql``}
      and (exists (select 1 from bundle_version b where b.patient_id = p.id and b.content is not null)
           or exists (select 1 from consent c where c.patient_id = p.id and c.resource is not null))
      and not exists (
        select 1 from task t where t.patient_id = p.id and t.status in ('requested', 'accepted', 'in-progress', 'on-hold'))
      and coalesce((select max(b.uploaded_at) from bundle_version b where b.patient_id = p.id), '-infinity'::timestamptz) < ${cutoff}
      and coalesce((select max(c.updated_at) from consent c where c.patient_id = p.id), '-infinity'::timestamptz) < ${cutoff}
      and coalesce((select max(t.updated_at) from task t where t.patient_id = p.id), '-infinity'::timestamptz) < ${cutoff}
    order by p.id
    limit ${limit}`.execute(db)
  return rows.map((r) => r.id)
}
