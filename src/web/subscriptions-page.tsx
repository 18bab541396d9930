import type { Subscription } from '@medplum/fhirtypes'
import { Csrf } from './layout.js'
import type { Messages } from './messages.nl.js'
import type { FormProblem } from './pages.js'
import { Problem } from './pages.js'
import type { WebSession } from './session.js'
import { formatDateTime, type Lang } from './web-kit.js'

export type SubscriptionTasks = 'inbox' | 'outbox'

/** The FHIR Subscription the API takes: a rest-hook to the endpoint, for the organisation's inbox or outbox. */
export function subscriptionFromForm(org: string, endpoint: string, tasks: SubscriptionTasks): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: tasks === 'inbox' ? 'Tasks naming us as owner or recipient' : 'Tasks we requested',
    criteria: `Task?${tasks === 'inbox' ? 'owner' : 'requester'}=${org}`,
    channel: { type: 'rest-hook', endpoint },
  }
}

/** The organisation's live subscriptions, a form to add one and a delete button per subscription. */
export function SubscriptionsPage({ t, session, subscriptions, problem, notice, endpoint = '', tasks = 'inbox' }: {
  t: Messages
  session: WebSession
  subscriptions: Subscription[]
  problem?: FormProblem | undefined
  notice?: string | undefined
  endpoint?: string
  tasks?: SubscriptionTasks
}) {
  const lang = t.lang as Lang
  return (
    <>
      <h1>{t.subscriptionsTitle}</h1>
      <p>{t.subscriptionsIntro}</p>
      {notice ? <p class="notice" role="status">{notice}</p> : null}
      <section aria-label={t.subscriptionsListTitle}>
        <h2>{t.subscriptionsListTitle}</h2>
        {subscriptions.length === 0 ? (
          <p>{t.subscriptionsNone}</p>
        ) : (
          <table>
            <caption class="visually-hidden">{t.subscriptionsListTitle}</caption>
            <thead>
              <tr>
                <th scope="col">{t.subscriptionEndpoint}</th>
                <th scope="col">{t.subscriptionCriteria}</th>
                <th scope="col">{t.subscriptionStatus}</th>
                <th scope="col">{t.subscriptionCreatedAt}</th>
                <th scope="col">{t.subscriptionActions}</th>
              </tr>
            </thead>
            <tbody>
              {subscriptions.map((s) => (
                <tr>
                  <td>{s.channel?.endpoint}</td>
                  <td>
                    <code>{s.criteria}</code>
                    <br />
                    {s.criteria?.startsWith('Task?owner=') ? t.subscriptionInbox : t.subscriptionOutbox}
                  </td>
                  <td>
                    {s.status === 'error' ? `${t.subscriptionError}: ${s.error ?? ''}` : s.status === 'active' ? t.subscriptionActive : s.status}
                  </td>
                  <td>{formatDateTime(s.meta?.lastUpdated, lang) ?? '—'}</td>
                  <td>
                    <form method="post" action={`/app/subscriptions/${encodeURIComponent(s.id!)}/delete`}>
                      <Csrf session={session} />
                      <button type="submit">{t.subscriptionDelete}</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="subscription-add-heading">
        <h2 id="subscription-add-heading">{t.subscriptionAddTitle}</h2>
        <Problem t={t} problem={problem} />
        <form class="stack" method="post" action="/app/subscriptions">
          <Csrf session={session} />
          <div>
            <label for="subscription-endpoint">{t.subscriptionEndpoint}</label>
            <p class="hint" id="subscription-endpoint-hint">{t.subscriptionEndpointHint}</p>
            <input type="url" id="subscription-endpoint" name="endpoint" required maxlength={2048} value={endpoint} aria-describedby="subscription-endpoint-hint" />
          </div>
          <fieldset>
            <legend>{t.subscriptionWhich}</legend>
            <input type="radio" id="subscription-inbox" name="tasks" value="inbox" checked={tasks === 'inbox'} />
            <label for="subscription-inbox">{t.subscriptionInbox}</label>
            <input type="radio" id="subscription-outbox" name="tasks" value="outbox" checked={tasks === 'outbox'} />
            <label for="subscription-outbox">{t.subscriptionOutbox}</label>
          </fieldset>
          <div>
            <button type="submit">{t.subscriptionAdd}</button>
          </div>
        </form>
      </section>
      <p>
        <a href="/">{t.backHome}</a>
      </p>
    </>
  )
}
