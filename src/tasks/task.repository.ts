import type { Insertable, Updateable } from 'kysely'
import { sql } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { TaskRow, TaskTable } from '../db/schema.js'
import { OPEN_STATUSES } from './task-resource.js'

export const insertTask = (db: Executor, row: Insertable<TaskTable>) => db.insertInto('task').values(row).execute()

export const findTask = (db: Executor, id: string) => db.selectFrom('task').selectAll().where('id', '=', id).executeTakeFirst()

export const lockTask = (db: Executor, id: string) =>
  db.selectFrom('task').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

export const updateTask = (db: Executor, id: string, values: Updateable<TaskTable>) =>
  db.updateTable('task').set(values).where('id', '=', id).execute()

export interface TaskSearch {
  org: string
  role: 'owner' | 'requester'
  statuses?: string[]
  code?: string
}

export function searchTasks(db: Executor, q: TaskSearch) {
  let query = db.selectFrom('task').selectAll()
  query = q.role === 'owner'
    ? query.where((eb) => eb.or([eb('owner_org', '=', q.org), sql<boolean>`${q.org} = any(recipient_orgs)`]))
    : query.where('requester_org', '=', q.org)
  if (q.statuses?.length) query = query.where('status', 'in', q.statuses)
  if (q.code) query = query.where('code', '=', q.code as TaskRow['code'])
  return query.orderBy('planned_start', 'asc').orderBy('created_at', 'asc').limit(500).execute()
}

/**
 * When the task's receiving organisations first opened the patient's dossier after the task was
 * announced: the read receipt, from the audit log's permitted reads.
 */
export async function firstDossierOpen(db: Executor, patientId: string, orgs: string[], since: Date): Promise<Date | undefined> {
  if (orgs.length === 0) return undefined
  const row = await db
    .selectFrom('audit_event')
    .select((eb) => eb.fn.min('occurred_at').as('at'))
    .where('patient_id', '=', patientId)
    .where('event_type', '=', 'dossier.read')
    .where('outcome', '=', 'permit')
    .where('org_id', 'in', orgs)
    .where('occurred_at', '>=', since)
    .executeTakeFirst()
  return row?.at ? new Date(row.at as unknown as string) : undefined
}
