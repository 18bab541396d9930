import { sql } from 'kysely'
import type { Executor } from '../db/executor.js'

/**
 * Whether an organisation takes part in the patient's care or handover: it recorded a consent for
 * the patient, uploaded a dossier version, or is a party to a task for the patient that was not
 * cancelled or rejected. Consent records, tokens and the patient's log are for such organisations
 * only.
 */
export async function organisationInvolved(db: Executor, patientId: string, org: string): Promise<boolean> {
  const { rows } = await sql<{ involved: boolean }>`
    select exists (select 1 from consent where patient_id = ${patientId} and recorded_by_org = ${org})
        or exists (select 1 from bundle_version where patient_id = ${patientId} and uploaded_by_org = ${org})
        or exists (
          select 1 from task where patient_id = ${patientId} and status not in ('cancelled', 'rejected')
            and (owner_org = ${org} or requester_org = ${org} or ${org} = any(recipient_orgs))
        ) as involved`.execute(db)
  return rows[0]?.involved === true
}
