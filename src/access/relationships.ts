import { randomUUID } from 'node:crypto'
import { sql, type RawBuilder } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { CareRelationshipRow } from '../db/schema.js'
import type { RelationshipFact } from './policy.js'

/**
 * Care relationships: facts with provenance about which organisation stands in which relation to
 * a patient. They are written only by the service, as a consequence of an act that some other
 * party performed (a custodian's consent record or transfer, a regievoerder's task), with one
 * exception: custody of a patient the service has no custodian for yet.
 */

/** The columns of a relationship fact, as `relationshipColumns` selects them. */
export interface RelationshipColumns {
  has_custodian: boolean | null
  custodian: boolean | null
  ever_custodian: boolean | null
  receiver: boolean | null
  task_party: boolean | null
}

/**
 * A select of the caller's organisation's relationships with the patient whose id is
 * `patientId` (a value or a column of an outer query) at `now`: one row, for `relationshipFact`
 * and for the statements that gather all of a decision's facts at once (patient-facts.ts).
 */
export const relationshipColumns = (patientId: RawBuilder<unknown> | string, org: string, now: Date) => sql<RelationshipColumns>`
    select
      coalesce(bool_or(kind = 'custodian'), false) as has_custodian,
      coalesce(bool_or(org = ${org} and kind = 'custodian' and (ends_at is null or ends_at > ${now})), false) as custodian,
      coalesce(bool_or(org = ${org} and kind = 'custodian'), false) as ever_custodian,
      coalesce(bool_or(org = ${org} and kind = 'receiver' and (ends_at is null or ends_at > ${now})), false) as receiver,
      coalesce(bool_or(org = ${org} and kind = 'task-party' and (ends_at is null or ends_at > ${now})), false) as task_party
    from care_relationship where patient_id = ${patientId}`

export const toRelationshipFact = (row: RelationshipColumns | undefined): RelationshipFact => ({
  patientHasCustodian: row?.has_custodian === true,
  custodian: row?.custodian === true,
  everCustodian: row?.ever_custodian === true,
  receiver: row?.receiver === true,
  taskParty: row?.task_party === true,
})

/** The caller's organisation's relationships with the patient at `now`, in one statement. */
export async function relationshipFact(db: Executor, patientId: string, org: string, now: Date): Promise<RelationshipFact> {
  const { rows } = await relationshipColumns(patientId, org, now).execute(db)
  return toRelationshipFact(rows[0])
}

export interface RelationshipSource {
  type: 'consent' | 'task'
  id: string
  /** The organisation and user whose act established the relationship. */
  byOrg: string
  byUser: string
}

export async function addRelationship(
  db: Executor,
  patientId: string,
  org: string,
  kind: CareRelationshipRow['kind'],
  source: RelationshipSource,
  now: Date,
  endsAt: Date | null = null,
): Promise<void> {
  await db
    .insertInto('care_relationship')
    .values({
      id: randomUUID(),
      patient_id: patientId,
      org,
      kind,
      source_type: source.type,
      source_id: source.id,
      established_by_org: source.byOrg,
      established_by_user: source.byUser,
      started_at: now,
      ends_at: endsAt,
    })
    .execute()
}

/** Ends the relationships a task created (all, or those of some organisations or kinds) at `endsAt`. */
export async function endTaskRelationships(
  db: Executor,
  taskId: string,
  endsAt: Date,
  only: { orgs?: readonly string[]; kinds?: readonly CareRelationshipRow['kind'][] } = {},
): Promise<void> {
  let q = db
    .updateTable('care_relationship')
    .set({ ends_at: endsAt })
    .where('source_type', '=', 'task')
    .where('source_id', '=', taskId)
    .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', endsAt)]))
  if (only.orgs) {
    if (only.orgs.length === 0) return
    q = q.where('org', 'in', [...only.orgs])
  }
  if (only.kinds) q = q.where('kind', 'in', [...only.kinds])
  await q.execute()
}

/** Ends an organisation's custody of the patient (after a completed transfer to another). */
export async function endCustody(db: Executor, patientId: string, org: string, now: Date): Promise<void> {
  await db
    .updateTable('care_relationship')
    .set({ ends_at: now })
    .where('patient_id', '=', patientId)
    .where('org', '=', org)
    .where('kind', '=', 'custodian')
    .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]))
    .execute()
}

/** Every relationship of the patient, for the record (oldest first). */
export const listRelationships = (db: Executor, patientId: string) =>
  db.selectFrom('care_relationship').selectAll().where('patient_id', '=', patientId).orderBy('started_at', 'asc').orderBy('id', 'asc').execute()
