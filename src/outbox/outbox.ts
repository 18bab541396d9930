import { randomUUID } from 'node:crypto'
import type { Executor } from '../db/executor.js'

/**
 * The durable outbox of notifications to receivers' systems. Features call `announce` inside the
 * transaction of the change it announces, so a notification exists exactly when the change was
 * committed. A notification names an event kind and a Task, never a person or medical content.
 */
export type NotificationKind =
  | 'task-created'
  | 'task-changed'
  | 'task-cancelled'
  | 'dossier-version'
  | 'consent-withdrawn'
  | 'handover-at-risk'

export const NOTIFICATION_KINDS: readonly NotificationKind[] = [
  'task-created',
  'task-changed',
  'task-cancelled',
  'dossier-version',
  'consent-withdrawn',
  'handover-at-risk',
]

/** Which side of a task a subscription listens to: its owner's (and extra recipients') or its requester's. */
export type SubscriptionParty = 'owner' | 'requester'

export interface Announcement {
  kind: NotificationKind
  taskId: string
  /** The organisations to tell, with the side of the task each stands on. */
  to: readonly { org: string; party: SubscriptionParty }[]
  now: Date
}

/** Writes one outbox row per live subscription of each organisation named. Returns how many. */
export async function announce(trx: Executor, a: Announcement): Promise<number> {
  if (a.to.length === 0) return 0
  let written = 0
  for (const party of ['owner', 'requester'] as const) {
    const orgs = [...new Set(a.to.filter((t) => t.party === party).map((t) => t.org))]
    if (orgs.length === 0) continue
    const subscriptions = await trx
      .selectFrom('subscription')
      .select('id')
      .where('org', 'in', orgs)
      .where('party', '=', party)
      .where('deleted_at', 'is', null)
      .orderBy('id')
      .execute()
    for (const s of subscriptions) {
      await trx
        .insertInto('notification')
        .values({
          id: randomUUID(),
          subscription_id: s.id,
          kind: a.kind,
          task_id: a.taskId,
          occurred_at: a.now,
          state: 'pending',
          next_attempt_at: a.now,
          last_error: null,
          delivered_at: null,
        })
        .execute()
      written++
    }
  }
  return written
}

/** Tasks still open (what a receiver may still act on). */
const OPEN = ['requested', 'accepted', 'in-progress', 'on-hold']

/** A new dossier version: the owners of open transfers of the patient to them, per transfer. */
export async function announceDossierVersion(trx: Executor, patientId: string, uploaderOrg: string, now: Date): Promise<void> {
  const transfers = await trx
    .selectFrom('task')
    .select(['id', 'owner_org'])
    .where('patient_id', '=', patientId)
    .where('code', '=', 'transfer')
    .where('status', 'in', OPEN)
    .where('owner_org', '!=', uploaderOrg)
    .execute()
  for (const t of transfers) await announce(trx, { kind: 'dossier-version', taskId: t.id, to: [{ org: t.owner_org, party: 'owner' }], now })
}

/**
 * A consent withdrawn: the organisations that received the patient (owners of transfers that were
 * not refused or cancelled), so they can purge their copies, per transfer.
 */
export async function announceConsentWithdrawn(trx: Executor, patientId: string, withdrawerOrg: string, now: Date): Promise<void> {
  const transfers = await trx
    .selectFrom('task')
    .select(['id', 'owner_org'])
    .where('patient_id', '=', patientId)
    .where('code', '=', 'transfer')
    .where('status', 'not in', ['cancelled', 'rejected'])
    .where('owner_org', '!=', withdrawerOrg)
    .execute()
  for (const t of transfers) await announce(trx, { kind: 'consent-withdrawn', taskId: t.id, to: [{ org: t.owner_org, party: 'owner' }], now })
}
