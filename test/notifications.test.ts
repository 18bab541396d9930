import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Bundle, Subscription, Task } from '@medplum/fhirtypes'
import { createLocalJWKSet, createRemoteJWKSet, flattenedVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_NOTIFY_SETTINGS } from '../src/deps.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { createDispatcher } from '../src/notifications/dispatcher.js'
import { NOTIFICATION_JWS_TYP, SIGNATURE_HEADER, type NotificationBody } from '../src/notifications/delivery.js'
import { announceHandoversAtRisk } from '../src/tasks/task.service.js'
import { consentResource, handoverBundle, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { Receiver, type Received } from './support/receiver.js'
import { createTestApp, type TestApp } from './support/test-app.js'

const text = (res: Response) => res.clone().text()
const MINUTE = 60_000

/** Development mode (http endpoints) with the loopback allow-listed, as a test deployment would configure it. */
const NOTIFY = { ...DEFAULT_NOTIFY_SETTINGS, allowHosts: ['127.0.0.1'], pollMs: 20, baseBackoffMs: 1_000, maxBackoffMs: 60_000, maxAgeMs: 60 * MINUTE, timeoutMs: 2_000 }

let t: TestApp
let server: ServerType
let base: string
beforeAll(async () => {
  t = await createTestApp({ settings: { developmentMode: true, notify: NOTIFY } })
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  await t?.close()
})

function subscription(criteria: string, endpoint: string): Subscription {
  return { resourceType: 'Subscription', status: 'requested', reason: 'Inbox of the receiving medical service', criteria, channel: { type: 'rest-hook', endpoint, payload: 'application/json' } }
}

async function subscribe(as: CallerName, criteria: string, endpoint: string): Promise<Subscription> {
  const res = await t.post('/fhir/Subscription', { as, body: subscription(criteria, endpoint) })
  expect(res.status, await text(res)).toBe(201)
  return (await res.json()) as Subscription
}

/** A patient of the GZA with consent and a dossier. */
async function gzaPatient() {
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(consent.status, await text(consent)).toBe(201)
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
  expect(upload.status, await text(upload)).toBe(201)
  return { vNummer, consentId: ((await consent.json()) as { id: string }).id }
}

async function announceTransfer(vNummer: string, start = new Date(t.clock.now().getTime() + 3 * 24 * 3600_000).toISOString()) {
  const res = await t.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource({ vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start }) })
  expect(res.status, await text(res)).toBe(201)
  return (await res.json()) as Task
}

const bodyOf = (r: Received) => JSON.parse(r.body) as NotificationBody
/** Only what this subscription was sent (several tests share the receiver organisation). */
const forSubscription = (received: Received[], id: string) => received.filter((r) => bodyOf(r).subscription === `Subscription/${id}`)

/** What a receiver does with a notification: verify the detached JWS over the exact body bytes against the published keys. */
async function verifySignature(r: Received, keys: ReturnType<typeof createRemoteJWKSet> | ReturnType<typeof createLocalJWKSet>) {
  const header = r.headers[SIGNATURE_HEADER]
  expect(typeof header, JSON.stringify(r.headers)).toBe('string')
  const [protectedHeader, payload, signature] = (header as string).split('.')
  expect(payload).toBe('')
  return flattenedVerify({ protected: protectedHeader!, payload: Buffer.from(r.body).toString('base64url'), signature: signature! }, keys, { algorithms: ['ES256'] })
}

describe('a receiving organisation is told of a transfer to it, and pulls the task with its own token', () => {
  it('a transfer announced reaches the receiver within seconds, signed with the published key, de-duplicated by id, and the task is then pulled over HTTP', async () => {
    const receiver = await new Receiver().start()
    const dispatcher = createDispatcher(t.deps)
    try {
      const sub = await subscribe('djiNurse', `Task?owner=${URA.dji}`, receiver.url)
      expect(sub).toMatchObject({ resourceType: 'Subscription', status: 'active', channel: { type: 'rest-hook', endpoint: receiver.url } })
      dispatcher.start()
      const { vNummer } = await gzaPatient()
      // The receiver acknowledges its first delivery with an error after processing it: the
      // redelivery carries the same id, and the receiver keeps one.
      receiver.status = 500
      const transfer = await announceTransfer(vNummer)
      const first = await receiver.waitFor(1)
      expect(first.length, 'no notification within 5 seconds').toBeGreaterThanOrEqual(1)
      receiver.status = 200
      // Once the dispatcher has recorded the failed attempt, the back-off passes on the test clock.
      for (let i = 0; i < 250; i++) {
        const row = await t.db.selectFrom('notification').select('attempts').where('subscription_id', '=', sub.id!).executeTakeFirst()
        if (row?.attempts === 1) break
        await new Promise((r) => setTimeout(r, 20))
      }
      t.clock.advance(NOTIFY.baseBackoffMs)
      const both = await receiver.waitFor(2)
      expect(both.length, 'no redelivery').toBe(2)

      const keys = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`))
      const seen = new Map<string, NotificationBody>()
      for (const r of both) {
        const verified = await verifySignature(r, keys)
        expect(verified.protectedHeader).toMatchObject({ alg: 'ES256', typ: NOTIFICATION_JWS_TYP })
        const body = bodyOf(r)
        expect(r.headers['x-overdracht-notification-id']).toBe(body.id)
        seen.set(body.id, body)
      }
      expect(seen.size, 'the redelivery has the same notification id').toBe(1)
      const [notice] = [...seen.values()]
      expect(notice).toMatchObject({ kind: 'task-created', task: `Task/${transfer.id}`, subscription: `Subscription/${sub.id}` })
      expect(Object.keys(notice!).sort()).toEqual(['attempt', 'id', 'kind', 'occurredAt', 'subscription', 'task'])

      // The receiver pulls the task over HTTP with its own token.
      const pulled = await fetch(`${base}/fhir/${notice!.task}`, { headers: { authorization: `Bearer ${await t.tokenFor('djiNurse')}` } })
      expect(pulled.status, await text(pulled)).toBe(200)
      expect(((await pulled.json()) as Task).id).toBe(transfer.id)
    } finally {
      await dispatcher.stop()
      await receiver.stop()
    }
  })

  it('a receiver down for a while, then back, is sent every notification once, in order', async () => {
    const receiver = await new Receiver().start()
    const dispatcher = createDispatcher(t.deps)
    try {
      const sub = await subscribe('djiNurse', `Task?owner=${URA.dji}`, receiver.url)
      await receiver.stop()
      const { vNummer } = await gzaPatient()
      const transfer = await announceTransfer(vNummer)
      // A new dossier version for the patient of an open transfer, then the transfer cancelled.
      const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
      expect(upload.status, await text(upload)).toBe(201)
      const cancel = await t.put(`/fhir/Task/${transfer.id}`, {
        as: 'gzaDoctor',
        body: { ...taskResource({ vNummer, code: 'transfer', requester: URA.gza, owner: URA.dji, start: transfer.executionPeriod!.start!, status: 'cancelled' }), id: transfer.id },
      })
      expect(cancel.status, await text(cancel)).toBe(200)

      for (let i = 0; i < 4; i++) {
        await dispatcher.runOnce()
        t.clock.advance(NOTIFY.baseBackoffMs * 2 ** i)
      }
      const pending = await t.db.selectFrom('notification').selectAll().where('subscription_id', '=', sub.id!).orderBy('seq').execute()
      expect(pending.map((n) => [n.kind, n.state])).toEqual([['task-created', 'pending'], ['dossier-version', 'pending'], ['task-cancelled', 'pending']])
      // Only the oldest was tried: the others wait behind it.
      expect(pending.map((n) => n.attempts)).toEqual([4, 0, 0])
      expect(pending[0]!.last_error).toContain('ECONNREFUSED')

      await receiver.start()
      t.clock.advance(NOTIFY.maxBackoffMs)
      await dispatcher.runOnce()
      await dispatcher.runOnce()
      const got = forSubscription(receiver.received, sub.id!).map(bodyOf)
      expect(got.map((n) => n.kind)).toEqual(['task-created', 'dossier-version', 'task-cancelled'])
      expect(new Set(got.map((n) => n.id)).size).toBe(3)
      expect(got.every((n) => n.task === `Task/${transfer.id}`)).toBe(true)
    } finally {
      await receiver.stop()
    }
  })

  it('a receiver that never answers well ends in the dead letters, which its subscription shows to it', async () => {
    const receiver = await new Receiver().start()
    receiver.status = 503
    const dispatcher = createDispatcher(t.deps)
    try {
      const sub = await subscribe('djiNurse', `Task?owner=${URA.dji}`, receiver.url)
      const { vNummer } = await gzaPatient()
      await announceTransfer(vNummer)
      for (let elapsed = 0; elapsed <= NOTIFY.maxAgeMs; elapsed += NOTIFY.maxBackoffMs) {
        await dispatcher.runOnce()
        t.clock.advance(NOTIFY.maxBackoffMs)
      }
      await dispatcher.runOnce()
      const [row] = await t.db.selectFrom('notification').selectAll().where('subscription_id', '=', sub.id!).execute()
      expect(row).toMatchObject({ state: 'dead', last_error: 'The endpoint answered 503' })

      const res = await t.get(`/fhir/Subscription/${sub.id}`, { as: 'djiNurse' })
      expect(res.status, await text(res)).toBe(200)
      const seen = (await res.json()) as Subscription
      expect(seen.status).toBe('error')
      expect(seen.error).toContain(row!.id)
      expect(seen.error).toContain('dead letters')
      const attempts = receiver.received.length
      // No more attempts at a dead letter.
      t.clock.advance(NOTIFY.maxBackoffMs)
      await dispatcher.runOnce()
      expect(receiver.received.length).toBe(attempts)
    } finally {
      await receiver.stop()
    }
  })

  it('two dispatchers working at once deliver each notification once', async () => {
    const receiver = await new Receiver().start()
    const one = createDispatcher(t.deps, { instanceId: 'one' })
    const two = createDispatcher(t.deps, { instanceId: 'two' })
    try {
      const subs = [await subscribe('djiNurse', `Task?owner=${URA.dji}`, receiver.url), await subscribe('djiNurse', `Task?owner=${URA.dji}`, receiver.url)]
      for (let i = 0; i < 3; i++) await announceTransfer((await gzaPatient()).vNummer)
      await Promise.all([one.runOnce(), two.runOnce(), one.runOnce(), two.runOnce()])
      await Promise.all([one.runOnce(), two.runOnce()])
      for (const sub of subs) {
        const got = forSubscription(receiver.received, sub.id!).map(bodyOf)
        expect(got.length).toBe(3)
        expect(new Set(got.map((n) => n.id)).size).toBe(3)
      }
    } finally {
      await receiver.stop()
    }
  })

  it('a handover at risk is announced to the sender once, by the periodic sweep', async () => {
    const receiver = await new Receiver().start()
    const dispatcher = createDispatcher(t.deps)
    try {
      const sub = await subscribe('gzaDoctor', `Task?requester=${URA.gza}`, receiver.url)
      const { vNummer } = await gzaPatient()
      const transfer = await announceTransfer(vNummer, new Date(t.clock.now().getTime() + 30 * 3600_000).toISOString())
      expect(await announceHandoversAtRisk(t.deps)).toBe(0)
      t.clock.advance(8 * 3600_000)
      expect(await announceHandoversAtRisk(t.deps)).toBeGreaterThanOrEqual(1)
      expect(await announceHandoversAtRisk(t.deps)).toBe(0)
      await dispatcher.runOnce()
      const got = forSubscription(receiver.received, sub.id!).map(bodyOf)
      expect(got.filter((n) => n.task === `Task/${transfer.id}`).map((n) => n.kind)).toEqual(['handover-at-risk'])
    } finally {
      await receiver.stop()
    }
  })

  it('a consent withdrawn is announced to the organisation that received the patient', async () => {
    const receiver = await new Receiver().start()
    const dispatcher = createDispatcher(t.deps)
    try {
      const sub = await subscribe('djiNurse', `Task?owner=${URA.dji}`, receiver.url)
      const { vNummer, consentId } = await gzaPatient()
      const transfer = await announceTransfer(vNummer)
      const w = await t.put(`/fhir/Consent/${consentId}`, { as: 'gzaDoctor', body: { ...consentResource({ vNummer }), id: consentId, status: 'inactive' } })
      expect(w.status, await text(w)).toBe(200)
      await dispatcher.runOnce()
      const got = forSubscription(receiver.received, sub.id!).map(bodyOf)
      expect(got.map((n) => [n.kind, n.task])).toEqual([['task-created', `Task/${transfer.id}`], ['consent-withdrawn', `Task/${transfer.id}`]])
    } finally {
      await receiver.stop()
    }
  })
})

describe('the outbox does not grow for ever', () => {
  it('delivered notifications are removed a week after their event (at-risk notices kept), dead letters after 30 days', async () => {
    const dispatcher = createDispatcher(t.deps)
    await dispatcher.runOnce()
    const states = async () => (await t.db.selectFrom('notification').select(['state', 'kind']).execute()).map((r) => (r.kind === 'handover-at-risk' ? `${r.state} at-risk` : r.state))
    expect(await states()).toContain('delivered')
    expect(await states()).toContain('delivered at-risk')
    expect(await states()).toContain('dead')
    t.clock.advance(8 * 24 * 3600_000)
    await dispatcher.purge()
    expect(await states()).not.toContain('delivered')
    // The at-risk notice stays: it marks its task as announced, so the sweep does not announce it again.
    expect(await states()).toContain('delivered at-risk')
    await announceHandoversAtRisk(t.deps)
    await announceHandoversAtRisk(t.deps)
    const atRisk = await t.db.selectFrom('notification').select(['task_id', 'subscription_id']).where('kind', '=', 'handover-at-risk').execute()
    expect(new Set(atRisk.map((r) => `${r.task_id} ${r.subscription_id}`)).size, 'a task announced at risk twice').toBe(atRisk.length)
    expect(await states()).toContain('dead')
    t.clock.advance(30 * 24 * 3600_000)
    await dispatcher.purge()
    expect(await states()).not.toContain('dead')
  })
})

describe('subscriptions belong to the organisation they are for', () => {
  it('a subscription for another organisation\'s URA is refused (403) with a valid token of another organisation, and the refusal is audited', async () => {
    for (const as of ['otherGzaDoctor', 'dvoEscort', 'regievoerder'] as const) {
      for (const criteria of [`Task?owner=${URA.dji}`, `Task?owner=${encodeURIComponent(`${SYSTEM.ura}|${URA.dji}`)}`, `Task?requester=${URA.dji}`]) {
        const res = await t.post('/fhir/Subscription', { as, body: subscription(criteria, 'http://127.0.0.1:9/attacker') })
        expect(res.status, `${as} ${criteria}: ${await text(res)}`).toBe(403)
      }
      const denied = await t.db.selectFrom('audit_event').selectAll()
        .where('event_type', '=', 'subscription.create').where('outcome', '=', 'deny').where('reason', '=', 'deny-other-organisation')
        .where('org_id', '=', { otherGzaDoctor: URA.otherGza, dvoEscort: URA.dvo, regievoerder: URA.dtv }[as])
        .execute()
      expect(denied.length, as).toBe(3)
    }
    expect(await t.db.selectFrom('subscription').select('id').where('endpoint', '=', 'http://127.0.0.1:9/attacker').execute()).toEqual([])
  })

  it("another organisation's subscription is not found (404) to read or delete, and is not listed; its owner deletes it (204)", async () => {
    const sub = await subscribe('djiNurse', `Task?owner=${URA.dji}`, 'http://127.0.0.1:9/dji')
    for (const as of ['otherGzaDoctor', 'gzaDoctor', 'dvoEscort'] as const) {
      const read = await t.get(`/fhir/Subscription/${sub.id}`, { as })
      expect(read.status, await text(read)).toBe(404)
      const del = await t.request('DELETE', `/fhir/Subscription/${sub.id}`, { as })
      expect(del.status, await text(del)).toBe(404)
      const list = await t.get('/fhir/Subscription', { as })
      expect(list.status, await text(list)).toBe(200)
      expect(((await list.json()) as Bundle).entry?.map((e) => e.resource?.id) ?? []).not.toContain(sub.id)
    }
    const mine = await t.get('/fhir/Subscription', { as: 'djiNurse' })
    expect(((await mine.json()) as Bundle).entry?.map((e) => e.resource?.id)).toContain(sub.id)
    const del = await t.request('DELETE', `/fhir/Subscription/${sub.id}`, { as: 'djiNurse' })
    expect(del.status, await text(del)).toBe(204)
    const gone = await t.get(`/fhir/Subscription/${sub.id}`, { as: 'djiNurse' })
    expect(gone.status, await text(gone)).toBe(404)
  })

  it.each([
    ['a websocket channel', { channel: { type: 'websocket' } }],
    ['a resource payload', { channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/x', payload: 'application/fhir+json' } }],
    ['channel headers', { channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/x', header: ['Authorization: Bearer x'] } }],
    ['criteria on another resource', { criteria: `Patient?organization=${URA.dji}` }],
    ['criteria with more parameters', { criteria: `Task?owner=${URA.dji}&status=requested` }],
  ])('a subscription with %s is refused (422)', async (_what, change) => {
    const res = await t.post('/fhir/Subscription', { as: 'djiNurse', body: { ...subscription(`Task?owner=${URA.dji}`, 'http://127.0.0.1:9/x'), ...change } })
    expect(res.status, await text(res)).toBe(422)
  })
})

describe('no server-side request forgery through a subscription, outside development mode', () => {
  let prod: TestApp
  beforeAll(async () => {
    prod = await createTestApp({ settings: { developmentMode: false } })
  })
  afterAll(async () => prod?.close())

  it.each([
    'https://127.0.0.1/notify',
    'https://127.1.2.3:8443/notify',
    'https://localhost/notify',
    'https://10.1.2.3/notify',
    'https://172.16.0.1/notify',
    'https://192.168.1.1/notify',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/notify',
    'https://0.0.0.0/notify',
    'https://[::1]/notify',
    'https://[fe80::1]/notify',
    'https://[fd00::1]/notify',
    'https://[::ffff:127.0.0.1]/notify',
    'https://[::ffff:10.0.0.1]/notify',
    'https://[64:ff9b::a00:1]/notify',
    'http://93.184.215.14/notify',
    'https://user:secret@93.184.215.14/notify',
  ])('an endpoint %s is refused (422)', async (endpoint) => {
    const res = await prod.post('/fhir/Subscription', { as: 'djiNurse', body: subscription(`Task?owner=${URA.dji}`, endpoint) })
    expect(res.status, await text(res)).toBe(422)
    const outcome = await res.text()
    expect(outcome).toContain('Subscription.channel.endpoint')
  })

  it('an organisation holds at most 20 live subscriptions; the 21st is refused (422)', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await prod.post('/fhir/Subscription', { as: 'escortNurse', body: subscription(`Task?owner=${URA.escort}`, `https://93.184.215.14/n${i}`) })
      expect(res.status, await text(res)).toBe(201)
    }
    const res = await prod.post('/fhir/Subscription', { as: 'escortNurse', body: subscription(`Task?owner=${URA.escort}`, 'https://93.184.215.14/n20') })
    expect(res.status, await text(res)).toBe(422)
  })

  it('an https endpoint on a public address is accepted (201)', async () => {
    const res = await prod.post('/fhir/Subscription', { as: 'djiNurse', body: subscription(`Task?owner=${URA.dji}`, 'https://93.184.215.14/notify') })
    expect(res.status, await text(res)).toBe(201)
  })
})

