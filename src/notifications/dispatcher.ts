import { logJobFailure } from '../db/database.js'
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Deps } from '../deps.js'
import type { NotificationRow, SubscriptionRow } from '../db/schema.js'
import { postNotification, signDetached, SIGNATURE_HEADER, type NotificationBody } from './delivery.js'

/**
 * How long a claim on a subscription holds when its instance dies mid-delivery. Renewed before each
 * attempt, and far longer than one attempt may take (OVERDRACHT_NOTIFY_TIMEOUT_MS).
 */
const LEASE_MS = 5 * 60_000
/** Subscriptions one instance claims per round, and notifications it delivers to one per claim. */
const CLAIM_BATCH = 10
const PER_CLAIM = 50

export interface Dispatcher {
  /** One round: claims subscriptions with due notifications and delivers them in order. Returns deliveries made. */
  runOnce(): Promise<number>
  /** The loop: a round every `pollMs`, the at-risk sweep every `sweepMs`. */
  start(): void
  /** Stops the loop and waits for a round in progress to finish. */
  stop(): Promise<void>
  /** Removes delivered notifications after a week and dead letters after 30 days. Returns how many. */
  purge(): Promise<number>
}

const DELIVERED_KEEP_MS = 7 * 24 * 3600_000
const DEAD_KEEP_MS = 30 * 24 * 3600_000

export interface DispatcherOptions {
  /** Runs periodically besides delivery (the sweep for handovers at risk). */
  sweep?: (deps: Deps) => Promise<unknown>
  /** Names this instance's claims; random unless given. */
  instanceId?: string
  /** The base of Task references in notifications; the configured public base URL, else relative. */
  publicBaseUrl?: string
}

/** Wait before the attempt after `attempts` failed ones: doubling from the base, capped. */
export const backoffMs = (attempts: number, base: number, max: number) => Math.min(max, base * 2 ** Math.max(0, attempts - 1))

export function createDispatcher(deps: Deps, options: DispatcherOptions = {}): Dispatcher {
  const me = options.instanceId ?? randomUUID()
  const settings = deps.settings.notify
  const base = (options.publicBaseUrl ?? deps.settings.publicBaseUrl)?.replace(/\/$/, '')
  const taskRef = (id: string) => (base ? `${base}/fhir/Task/${id}` : `Task/${id}`)

  /**
   * Claims subscriptions whose oldest pending notification is due: a lease written under
   * `for update skip locked`, so two instances never hold the same subscription, and one
   * subscription's notifications go out one at a time, in order.
   */
  async function claim(now: Date): Promise<string[]> {
    const until = new Date(now.getTime() + LEASE_MS)
    const rows = await sql<{ id: string }>`
      update subscription set lease_owner = ${me}, lease_until = ${until}
      where id in (
        select s.id from subscription s
        where s.deleted_at is null
          and (s.lease_until is null or s.lease_until < ${now})
          and exists (select 1 from notification n where n.subscription_id = s.id and n.state = 'pending' and n.next_attempt_at <= ${now})
        order by s.id
        limit ${CLAIM_BATCH}
        for update of s skip locked
      )
      returning id`.execute(deps.db)
    return rows.rows.map((r) => r.id)
  }

  async function renew(subscriptionId: string): Promise<boolean> {
    const result = await deps.db.updateTable('subscription').set({ lease_until: new Date(deps.clock.now().getTime() + LEASE_MS) })
      .where('id', '=', subscriptionId).where('lease_owner', '=', me).where('deleted_at', 'is', null).executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  async function release(subscriptionId: string) {
    await deps.db.updateTable('subscription').set({ lease_owner: null, lease_until: null })
      .where('id', '=', subscriptionId).where('lease_owner', '=', me).execute()
  }

  async function deliverOne(subscription: SubscriptionRow, n: NotificationRow): Promise<boolean> {
    const now = deps.clock.now()
    const body: NotificationBody = {
      id: n.id,
      kind: n.kind,
      subscription: `Subscription/${subscription.id}`,
      task: taskRef(n.task_id),
      occurredAt: n.occurred_at.toISOString(),
      attempt: n.attempts + 1,
    }
    const bytes = new TextEncoder().encode(JSON.stringify(body))
    const result = await postNotification(
      subscription.endpoint,
      bytes,
      { [SIGNATURE_HEADER]: await signDetached(deps.consentKeys, bytes), 'x-overdracht-notification-id': n.id },
      { developmentMode: deps.settings.developmentMode, allowHosts: settings.allowHosts, timeoutMs: settings.timeoutMs },
    )
    const after = deps.clock.now()
    if (result.ok) {
      await deps.db.transaction().execute(async (trx) => {
        await trx.updateTable('notification').set({ state: 'delivered', delivered_at: after, attempts: n.attempts + 1, last_error: null }).where('id', '=', n.id).execute()
        await trx.updateTable('subscription').set({ status: 'active' }).where('id', '=', subscription.id).where('status', '=', 'error').execute()
      })
      deps.metrics.notifications.inc({ outcome: 'delivered' })
      return true
    }
    const attempts = n.attempts + 1
    if (after.getTime() - n.occurred_at.getTime() >= settings.maxAgeMs) {
      const error = `Notification ${n.id} (${n.kind}) was not delivered within ${Math.round(settings.maxAgeMs / 60_000)} minutes and is in the dead letters: ${result.error}`
      await deps.db.transaction().execute(async (trx) => {
        await trx.updateTable('notification').set({ state: 'dead', attempts, last_error: result.error }).where('id', '=', n.id).execute()
        await trx.updateTable('subscription').set({ status: 'error', error }).where('id', '=', subscription.id).execute()
      })
      deps.metrics.notifications.inc({ outcome: 'dead-letter' })
      deps.logger.warn({ job: 'notify', subscription: subscription.id, attempts }, 'notification moved to the dead letters')
      // The next one may go: a dead letter does not hold up the queue for ever.
      return true
    }
    await deps.db.updateTable('notification')
      .set({ attempts, last_error: result.error, next_attempt_at: new Date(after.getTime() + backoffMs(attempts, settings.baseBackoffMs, settings.maxBackoffMs)) })
      .where('id', '=', n.id).execute()
    deps.metrics.notifications.inc({ outcome: 'retry' })
    return false
  }

  async function drain(subscriptionId: string): Promise<number> {
    let delivered = 0
    try {
      const subscription = await deps.db.selectFrom('subscription').selectAll().where('id', '=', subscriptionId).executeTakeFirst()
      if (!subscription || subscription.deleted_at) return 0
      for (let i = 0; i < PER_CLAIM; i++) {
        // Strictly in order: the oldest pending one, due or not.
        const head = await deps.db.selectFrom('notification').selectAll()
          .where('subscription_id', '=', subscriptionId).where('state', '=', 'pending')
          .orderBy('seq', 'asc').limit(1).executeTakeFirst()
        if (!head || head.next_attempt_at.getTime() > deps.clock.now().getTime()) break
        // The lease is renewed before each attempt; lost (taken by another instance after it lapsed) or the subscription deleted: stop.
        if (!(await renew(subscriptionId))) break
        const moveOn = await deliverOne(subscription, head)
        if (!moveOn) break
        delivered++
      }
    } finally {
      await release(subscriptionId)
    }
    return delivered
  }

  async function runOnce(): Promise<number> {
    const claimed = await claim(deps.clock.now())
    let delivered = 0
    // Subscriptions are independent of each other: delivered side by side.
    const counts = await Promise.all(claimed.map((id) => drain(id)))
    for (const c of counts) delivered += c
    return delivered
  }

  async function purge(): Promise<number> {
    const now = deps.clock.now().getTime()
    const result = await deps.db.deleteFrom('notification')
      .where((eb) => eb.or([
        // An at-risk notice also marks its task as announced (once per task): kept while the task is.
        eb.and([eb('state', '=', 'delivered'), eb('kind', '!=', 'handover-at-risk'), eb('occurred_at', '<', new Date(now - DELIVERED_KEEP_MS))]),
        eb.and([eb('state', '=', 'dead'), eb('occurred_at', '<', new Date(now - DEAD_KEEP_MS))]),
      ]))
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  let timer: NodeJS.Timeout | undefined
  let sweepTimer: NodeJS.Timeout | undefined
  let round: Promise<unknown> | undefined
  let stopped = true

  const loop = () => {
    if (stopped) return
    round = runOnce()
      .catch((err: unknown) => logJobFailure(deps.logger, 'notify', err, 'notification round failed'))
      .finally(() => {
        round = undefined
        if (!stopped) timer = setTimeout(loop, settings.pollMs)
      })
  }
  const sweepOnce = async () => {
    try {
      await purge()
      await options.sweep?.(deps)
    } catch (err) {
      logJobFailure(deps.logger, 'notify-sweep', err, 'at-risk sweep failed')
    }
  }

  return {
    runOnce,
    purge,
    start() {
      if (!stopped) return
      stopped = false
      timer = setTimeout(loop, 0)
      sweepTimer = setInterval(() => void sweepOnce(), settings.sweepMs)
      sweepTimer.unref()
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      if (sweepTimer) clearInterval(sweepTimer)
      await round
    },
  }
}
