import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_NOTIFY_SETTINGS } from '../src/deps.js'
import { MAX_SUBSCRIPTIONS_PER_ORGANISATION } from '../src/notifications/subscription.service.js'
import { CookieJar, startWebApp, text, type WebTestApp } from './support/web-app.js'

/**
 * The DV&O transport escort manages the notification subscriptions of DV&O on the page
 * "Meldingen": createSubscription, searchSubscriptions and deleteSubscription decide, as in the API.
 * Outside development mode only https is taken; the loopback receiver is allow-listed.
 */

const ENDPOINT = 'https://127.0.0.1:9443/overdracht/notify'
let w: WebTestApp
let escort: CookieJar
let page = ''

const live = (org: string) => w.t.deps.db.selectFrom('subscription').selectAll().where('org', '=', org).where('deleted_at', 'is', null).execute()
const idsOn = (html: string) => [...html.matchAll(/action="\/app\/subscriptions\/([0-9a-f-]{36})\/delete"/g)].map((m) => m[1]!)

beforeAll(async () => {
  w = await startWebApp({ settings: { developmentMode: false, notify: { ...DEFAULT_NOTIFY_SETTINGS, allowHosts: ['127.0.0.1'] } } })
  escort = new CookieJar(w.baseUrl)
  const home = await text(await escort.signIn('dev-dvo-escort'))
  expect(home).toContain('href="/app/subscriptions"')
  const res = await escort.fetch('/app/subscriptions')
  page = await text(res)
  expect(res.status, page).toBe(200)
})
afterAll(async () => w?.close())

describe('the page "Meldingen"', () => {
  it('is linked from the home pages of the roles that may subscribe, not the privacy officer’s', async () => {
    for (const sub of ['dev-dji-verpleegkundige', 'dev-escort-verpleegkundige', 'dev-regievoerder', 'dev-coa-casemanager']) {
      const jar = new CookieJar(w.baseUrl)
      expect(await text(await jar.signIn(sub)), sub).toContain('href="/app/subscriptions"')
      expect((await jar.fetch('/app/subscriptions')).status, sub).toBe(200)
    }
    const privacy = new CookieJar(w.baseUrl)
    expect(await text(await privacy.signIn('dev-gza-privacy'))).not.toContain('href="/app/subscriptions"')
  })

  it('starts empty, in Dutch, with a form carrying the CSRF token and the strict CSP', async () => {
    expect(page).toContain('<h1>Meldingen</h1>')
    expect(page).toContain('Uw organisatie heeft geen abonnementen.')
    expect(page).toMatch(/<form class="stack" method="post" action="\/app\/subscriptions">\s*<input type="hidden" name="_csrf"/)
    const res = await escort.fetch('/app/subscriptions?lang=en')
    expect(await text(res)).toContain('<h1>Notifications</h1>')
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    await escort.fetch('/app/subscriptions?lang=nl')
  })

  it('adds an inbox subscription to an https endpoint and lists it', async () => {
    const res = await escort.postForm('/app/subscriptions', { _csrf: escort.csrfOf(page), endpoint: ENDPOINT, tasks: 'inbox' })
    page = await text(res)
    expect(res.status, page).toBe(200)
    expect(page).toContain('Het abonnement is toegevoegd.')
    expect(page).toContain(ENDPOINT)
    expect(page).toContain('Task?owner=90000005')
    expect(page).toContain('actief')
    const rows = await live('90000005')
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ endpoint: ENDPOINT, party: 'owner', criteria: 'Task?owner=90000005', created_by: 'dev-dvo-escort' })
    expect(idsOn(page)).toEqual([rows[0]!.id])
  })

  it('an outbox subscription names the organisation as requester', async () => {
    const res = await escort.postForm('/app/subscriptions', { _csrf: escort.csrfOf(page), endpoint: `${ENDPOINT}/outbox`, tasks: 'outbox' })
    page = await text(res)
    expect(res.status, page).toBe(200)
    expect(page).toContain('Task?requester=90000005')
    expect(await live('90000005')).toHaveLength(2)
  })

  it('shows a dead letter’s error with status error', async () => {
    const [first] = await live('90000005')
    await w.t.deps.db.updateTable('subscription').set({ status: 'error', error: 'delivery failed: HTTP 500 for 24 hours' }).where('id', '=', first!.id).execute()
    const html = await text(await escort.fetch('/app/subscriptions'))
    expect(html).toContain('fout: delivery failed: HTTP 500 for 24 hours')
    await w.t.deps.db.updateTable('subscription').set({ status: 'active', error: null }).where('id', '=', first!.id).execute()
  })

  it('refuses a link-local or private endpoint with the guard’s reason and the API’s status, creating nothing', async () => {
    for (const endpoint of ['https://169.254.169.254/latest/meta-data', 'https://10.0.0.8/hook', 'http://127.0.0.1:9443/hook']) {
      const res = await escort.postForm('/app/subscriptions', { _csrf: escort.csrfOf(page), endpoint, tasks: 'inbox' })
      const html = await text(res)
      expect(res.status, html).toBe(422)
      expect(html).toContain('Het abonnement is niet toegevoegd (HTTP 422)')
      expect(html).toMatch(endpoint.startsWith('http:') ? /must be an https URL/ : /private, loopback, link-local or reserved address/)
      expect(html).toContain(`value="${endpoint}"`)
    }
    expect(await live('90000005')).toHaveLength(2)
  })

  it('refuses a form without the CSRF token', async () => {
    const res = await escort.postForm('/app/subscriptions', { endpoint: `${ENDPOINT}/no-csrf`, tasks: 'inbox' })
    expect(res.status).toBe(403)
    expect(await live('90000005')).toHaveLength(2)
    const [first] = await live('90000005')
    const del = await escort.postForm(`/app/subscriptions/${first!.id}/delete`, {})
    expect(del.status).toBe(403)
    expect(await live('90000005')).toHaveLength(2)
  })

  it('another organisation’s user does not see them and cannot delete them', async () => {
    const kmar = new CookieJar(w.baseUrl)
    await kmar.signIn('dev-kmar-escort')
    const res = await kmar.fetch('/app/subscriptions')
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('Uw organisatie heeft geen abonnementen.')
    expect(html).not.toContain(ENDPOINT)
    const [first] = await live('90000005')
    const del = await kmar.postForm(`/app/subscriptions/${first!.id}/delete`, { _csrf: kmar.csrfOf(html) })
    expect(del.status).toBe(404)
    expect(await live('90000005')).toHaveLength(2)
  })

  it(`refuses the ${MAX_SUBSCRIPTIONS_PER_ORGANISATION + 1}st with the limit, in English too`, async () => {
    for (let i = (await live('90000005')).length; i < MAX_SUBSCRIPTIONS_PER_ORGANISATION; i++) {
      const res = await escort.postForm('/app/subscriptions', { _csrf: escort.csrfOf(page), endpoint: `${ENDPOINT}/${i}`, tasks: 'inbox' })
      expect(res.status).toBe(200)
    }
    const res = await escort.postForm('/app/subscriptions?lang=en', { _csrf: escort.csrfOf(page), endpoint: `${ENDPOINT}/one-too-many`, tasks: 'outbox' })
    const html = await text(res)
    expect(res.status, html).toBe(422)
    expect(html).toContain('The subscription was not added (HTTP 422)')
    expect(html).toContain(`at most ${MAX_SUBSCRIPTIONS_PER_ORGANISATION} subscriptions`)
    expect(await live('90000005')).toHaveLength(MAX_SUBSCRIPTIONS_PER_ORGANISATION)
    await escort.fetch('/app/subscriptions?lang=nl')
  })

  it('deletes one with its button', async () => {
    page = await text(await escort.fetch('/app/subscriptions'))
    const ids = idsOn(page)
    expect(ids).toHaveLength(MAX_SUBSCRIPTIONS_PER_ORGANISATION)
    const res = await escort.postForm(`/app/subscriptions/${ids[0]}/delete`, { _csrf: escort.csrfOf(page) })
    page = await text(res)
    expect(res.status, page).toBe(200)
    expect(page).toContain('Het abonnement is verwijderd.')
    expect(idsOn(page)).not.toContain(ids[0])
    expect((await live('90000005')).map((r) => r.id)).not.toContain(ids[0])
  })
})
