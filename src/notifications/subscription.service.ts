import { randomUUID } from 'node:crypto'
import type { Bundle, Subscription } from '@medplum/fhirtypes'
import type { AuditContext } from '../audit/audit.service.js'
import { withDecision } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import type { SubscriptionRow } from '../db/schema.js'
import { issue, notFound, unprocessable } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'
import type { SubscriptionParty } from '../outbox/outbox.js'
import { checkEndpoint, EndpointRefused } from './endpoint-guard.js'

/** Each notification is written once per subscription, in the transaction of the change: bounded. */
export const MAX_SUBSCRIPTIONS_PER_ORGANISATION = 20

/** The one payload the service sends: a small JSON notice (event, Task reference, times, id). */
export const NOTIFICATION_PAYLOAD = 'application/json'

interface ParsedSubscription {
  org: string
  party: SubscriptionParty
  criteria: string
  endpoint: string
  reason: string
}

/** `Task?owner=<URA>` or `Task?requester=<URA>`, the URA bare or as `<ura system>|<URA>`. */
export function parseCriteria(criteria: string): { party: SubscriptionParty; org: string } | undefined {
  const m = /^Task\?(owner|requester)=([^&]+)$/.exec(criteria)
  if (!m) return undefined
  let value: string
  try {
    value = decodeURIComponent(m[2]!)
  } catch {
    return undefined
  }
  if (value.includes('|')) {
    const [system, org] = value.split('|', 2) as [string, string]
    if (system !== SYSTEM.ura) return undefined
    value = org
  }
  if (!/^\d{8}$/.test(value)) return undefined
  return { party: m[1] as SubscriptionParty, org: value }
}

function parseSubscription(s: Subscription): ParsedSubscription {
  const issues = []
  if (s.channel?.type !== 'rest-hook') issues.push(issue('not-supported', 'Only channel.type "rest-hook" is supported', ['Subscription.channel.type']))
  if (s.channel?.payload !== undefined && s.channel.payload !== NOTIFICATION_PAYLOAD) {
    issues.push(issue('not-supported', `channel.payload must be absent or "${NOTIFICATION_PAYLOAD}": notifications carry no resource`, ['Subscription.channel.payload']))
  }
  if (s.channel?.header?.length) {
    issues.push(issue('not-supported', 'channel.header is not supported: verify the signature of each notification instead', ['Subscription.channel.header']))
  }
  if (!s.channel?.endpoint) issues.push(issue('required', 'channel.endpoint is required', ['Subscription.channel.endpoint']))
  const criteria = parseCriteria(s.criteria ?? '')
  if (!criteria) {
    issues.push(issue('not-supported', 'criteria must be Task?owner=<URA> or Task?requester=<URA> (your own organisation)', ['Subscription.criteria']))
  }
  if (s.end !== undefined) issues.push(issue('not-supported', 'Subscription.end is not supported; delete the subscription instead', ['Subscription.end']))
  if (issues.length) throw unprocessable(issues)
  return { ...criteria!, criteria: s.criteria!, endpoint: s.channel!.endpoint!, reason: s.reason ?? '' }
}

export function rowToSubscription(row: SubscriptionRow): Subscription {
  return {
    resourceType: 'Subscription',
    id: row.id,
    meta: { versionId: '1', lastUpdated: row.created_at.toISOString() },
    status: row.deleted_at ? 'off' : row.status,
    reason: row.reason,
    criteria: row.criteria,
    ...(row.error ? { error: row.error } : {}),
    channel: { type: 'rest-hook', endpoint: row.endpoint, payload: NOTIFICATION_PAYLOAD },
  }
}

const findLiveSubscription = (deps: Deps, id: string) =>
  deps.db.selectFrom('subscription').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()

/** Registers an endpoint for the caller's own organisation; another's URA is refused and audited. */
export async function createSubscription(deps: Deps, ctx: AuditContext, resource: Subscription): Promise<Subscription> {
  const parsed = parseSubscription(resource)
  const id = randomUUID()
  return withDecision(deps, ctx, {
    action: 'subscription.create',
    gather: async () => ({
      facts: { ownOrganisation: parsed.org === ctx.principal.org },
      subject: { resourceType: 'Subscription', resourceId: id, detail: { party: parsed.party } },
      data: undefined,
    }),
    act: async (trx) => {
      const live = await trx.selectFrom('subscription').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('org', '=', parsed.org).where('deleted_at', 'is', null).executeTakeFirstOrThrow()
      if (Number(live.n) >= MAX_SUBSCRIPTIONS_PER_ORGANISATION) {
        throw unprocessable([issue('business-rule', `An organisation may have at most ${MAX_SUBSCRIPTIONS_PER_ORGANISATION} subscriptions; delete one first`)])
      }
      // The endpoint is looked at only for a permitted caller: nobody probes addresses through a refusal.
      try {
        await checkEndpoint(parsed.endpoint, { developmentMode: deps.settings.developmentMode, allowHosts: deps.settings.notify.allowHosts })
      } catch (err) {
        if (err instanceof EndpointRefused) throw unprocessable([issue('business-rule', err.message, ['Subscription.channel.endpoint'])])
        throw err
      }
      const row: SubscriptionRow = {
        id,
        org: parsed.org,
        party: parsed.party,
        criteria: parsed.criteria,
        endpoint: parsed.endpoint,
        reason: parsed.reason,
        status: 'active',
        error: null,
        created_at: deps.clock.now(),
        created_by: ctx.principal.sub,
        deleted_at: null,
        lease_owner: null,
        lease_until: null,
      }
      await trx.insertInto('subscription').values(row).execute()
      return { result: rowToSubscription(row) }
    },
  })
}

export async function readSubscription(deps: Deps, ctx: AuditContext, id: string): Promise<Subscription> {
  return withDecision(deps, ctx, {
    action: 'subscription.read',
    readOnly: true,
    gather: async () => {
      const row = await findLiveSubscription(deps, id)
      return { facts: { ownOrganisation: row?.org === ctx.principal.org }, subject: { resourceType: 'Subscription', resourceId: id }, data: row! }
    },
    act: async (_db, _decision, row) => ({ result: rowToSubscription(row) }),
  })
}

/** The caller's organisation's live subscriptions. */
export async function searchSubscriptions(deps: Deps, ctx: AuditContext): Promise<Subscription[]> {
  const rows = await withDecision(deps, ctx, {
    action: 'subscription.search',
    readOnly: true,
    gather: async () => ({ facts: { ownOrganisation: true }, subject: { resourceType: 'Subscription' }, data: undefined }),
    act: async (db) => {
      const found = await db.selectFrom('subscription').selectAll().where('org', '=', ctx.principal.org).where('deleted_at', 'is', null).orderBy('created_at').execute()
      return { result: found, audit: { detail: { listed: found.length } } }
    },
  })
  return rows.map(rowToSubscription)
}

/** Ends a subscription: nothing more is delivered to it, pending notifications included. */
export async function deleteSubscription(deps: Deps, ctx: AuditContext, id: string): Promise<void> {
  await withDecision(deps, ctx, {
    action: 'subscription.delete',
    gather: async (trx) => {
      const row = await trx.selectFrom('subscription').selectAll().where('id', '=', id).where('deleted_at', 'is', null).forUpdate().executeTakeFirst()
      return { facts: { ownOrganisation: row?.org === ctx.principal.org }, subject: { resourceType: 'Subscription', resourceId: id }, data: row }
    },
    act: async (trx, _decision, row) => {
      if (!row) throw notFound()
      await trx.updateTable('subscription').set({ deleted_at: deps.clock.now(), status: 'off' }).where('id', '=', id).execute()
      return { result: undefined }
    },
  })
}
