import type { Insertable, Updateable } from 'kysely'
import { sql } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { TaskRow, TaskTable } from '../db/schema.js'
import { OPEN_STATUSES } from './task-resource.js'

/** Stores a new task and its first version. */
export async function insertTask(db: Executor, row: Insertable<TaskTable> & { resource: string; updated_at: Date }) {
  await db.insertInto('task').values(row).execute()
  await db.insertInto('task_version').values({ task_id: row.id, version: row.version, recorded_at: row.updated_at, resource: row.resource }).execute()
}

export const findTask = (db: Executor, id: string) => db.selectFrom('task').selectAll().where('id', '=', id).executeTakeFirst()

export const lockTask = (db: Executor, id: string) =>
  db.selectFrom('task').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

/** Changes a task and keeps the new version. */
export async function updateTask(db: Executor, id: string, values: Updateable<TaskTable> & { version: number; resource: string; updated_at: Date }) {
  await db.updateTable('task').set(values).where('id', '=', id).execute()
  await db.insertInto('task_version').values({ task_id: id, version: values.version, recorded_at: values.updated_at, resource: values.resource }).execute()
}

export const findTaskVersion = (db: Executor, id: string, version: number) =>
  db.selectFrom('task_version').selectAll().where('task_id', '=', id).where('version', '=', version).executeTakeFirst()

export const listTaskVersions = (db: Executor, id: string) =>
  db.selectFrom('task_version').selectAll().where('task_id', '=', id).orderBy('version', 'desc').execute()

/**
 * The tasks an organisation requested that carry a business identifier. Only the requester's
 * own: an identifier is the requester's, and another organisation's task with the same one is
 * never matched, nor can it stand in the way.
 */
export const findTasksByIdentifier = (db: Executor, requesterOrg: string, identifier: string) =>
  db
    .selectFrom('task')
    .select(['id', 'requester_org'])
    .where(sql<boolean>`${identifier} = any(identifiers)`)
    .where('requester_org', '=', requesterOrg)
    .limit(2)
    .execute()

/**
 * Serialises writers of the same identifiers of one requester (two conditional creates at once
 * make one task), then tells whether another of its tasks has one of them already.
 */
export async function identifierTaken(db: Executor, requesterOrg: string, identifiers: readonly string[], exceptTaskId?: string): Promise<boolean> {
  if (identifiers.length === 0) return false
  for (const id of [...identifiers].sort()) await sql`select pg_advisory_xact_lock(hashtext(${`task-identifier|${requesterOrg}|${id}`}))`.execute(db)
  let q = db.selectFrom('task').select('id').where('requester_org', '=', requesterOrg).where(sql<boolean>`identifiers && ${[...identifiers]}::text[]`)
  if (exceptTaskId) q = q.where('id', '!=', exceptTaskId)
  return (await q.executeTakeFirst()) !== undefined
}

export interface TaskSearch {
  org: string
  role: 'owner' | 'requester'
  statuses?: string[]
  codes?: string[]
  identifiers?: string[]
  /** Only the tasks of this patient (the web application's patient page). */
  patientId?: string
  /** Only open transfers and departures due by `atRiskBy` whose dossier the receivers have not opened. */
  atRiskBy?: Date
  /**
   * The time of the search. Receipts are looked for up to it: the upper bound lets PostgreSQL skip
   * the audit log's later month partitions (made ahead of time) for every task of the page.
   */
  asOf: Date
  /** Keyset position: after this sort key. */
  after?: { start: string; created: string; id: string }
  limit: number
}

export type TaskSearchRow = TaskRow & { first_open: Date | null; start_key: string; created_key: string }

/**
 * One page of an inbox or outbox, ordered by planned date (undated last), then announcement, then
 * id: a keyset order, so tasks announced while a client pages never shift a page. Each row comes
 * with its read receipt: when the receiving organisations first opened the patient's dossier after
 * the task was announced (from the audit log's permitted reads).
 */
function taskSearchQuery(db: Executor, q: Omit<TaskSearch, 'after' | 'limit'>) {
  const inner = db
    .selectFrom('task')
    .selectAll('task')
    .select(sql<Date | null>`(
      select min(a.occurred_at) from audit_event a
      where a.patient_id = task.patient_id and a.event_type = 'dossier.read' and a.outcome = 'permit'
        and a.org_id = any(array[task.owner_org] || task.recipient_orgs) and a.occurred_at >= task.created_at
        and a.occurred_at <= ${q.asOf})`.as('first_open'))
    .select(sql<Date>`coalesce(task.planned_start, 'infinity'::timestamptz)`.as('sort_start'))
    // The sort key as the database writes it, for the next page's position (exact to the microsecond).
    .select(sql<string>`coalesce(task.planned_start, 'infinity'::timestamptz)::text`.as('start_key'))
    .select(sql<string>`task.created_at::text`.as('created_key'))
    .where((eb) =>
      q.role === 'owner' ? eb.or([eb('owner_org', '=', q.org), sql<boolean>`${q.org} = any(recipient_orgs)`]) : eb('requester_org', '=', q.org),
    )
    .$if(!!q.statuses?.length, (qb) => qb.where('status', 'in', q.statuses!))
    .$if(!!q.codes?.length, (qb) => qb.where('code', 'in', q.codes as TaskRow['code'][]))
    .$if(!!q.identifiers?.length, (qb) => qb.where(sql<boolean>`identifiers && ${q.identifiers!}::text[]`))
    .$if(q.patientId !== undefined, (qb) => qb.where('patient_id', '=', q.patientId!))
    .$if(q.atRiskBy !== undefined, (qb) =>
      qb
        .where('status', 'in', [...OPEN_STATUSES])
        .where('code', '!=', 'case')
        .where('planned_start', '<=', q.atRiskBy!)
        // An extra recipient sees the task, not the receipts of the parties.
        .$if(q.role === 'owner', (b) => b.where('owner_org', '=', q.org)),
    )
  let outer = db.selectFrom(inner.as('t')).selectAll()
  if (q.atRiskBy !== undefined) outer = outer.where('first_open', 'is', null)
  return outer
}

export async function searchTasks(db: Executor, q: TaskSearch): Promise<TaskSearchRow[]> {
  let query = taskSearchQuery(db, q)
  if (q.after) {
    const { start, created, id } = q.after
    query = query.where(sql<boolean>`(sort_start, created_at, id) > (${start}::timestamptz, ${created}::timestamptz, ${id})`)
  }
  const rows = await query.orderBy('sort_start', 'asc').orderBy('created_at', 'asc').orderBy('id', 'asc').limit(q.limit).execute()
  return rows as unknown as TaskSearchRow[]
}

export async function countTasks(db: Executor, q: Omit<TaskSearch, 'after' | 'limit'>): Promise<number> {
  const row = await db
    .selectFrom(taskSearchQuery(db, q).as('m'))
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
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
