import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Bundle, Consent, OperationOutcome, Parameters, Task } from '@medplum/fhirtypes'
import { Client as FhirKitClient, RESPONSE_KEY } from 'fhir-kit-client'
import smart from 'fhirclient'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { TASK_INPUT_SYSTEM } from '../src/tasks/task-resource.js'
import { URA, type CallerName } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'

/*
 * The conformance suite: the README walkthrough (consent, upload, patient search, dossier read by
 * the escort nurse, departure, handelingsperspectief, refusal) run over real HTTP through two FHIR
 * clients integrators use, fhir-kit-client 2.0.3 and fhirclient 2.6.3, neither patched nor given a
 * custom fetch: only a base URL and a bearer token, as their documentation says. Then each of the
 * failures that used to break generic client code, as a named test through those clients.
 */

const V_NUMMER = 'V1234567890'
const consentExample = JSON.parse(readFileSync(new URL('../examples/consent.json', import.meta.url), 'utf8')) as unknown as Consent
const bundleExample = JSON.parse(readFileSync(new URL('../examples/handover-bundle.json', import.meta.url), 'utf8')) as unknown as Bundle

let t: TestApp
let server: ServerType
let base = ''

beforeAll(async () => {
  t = await createTestApp()
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`
})
afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()))
  await t?.close()
})


/** fhir-kit-client as its README sets it up: a base URL and a bearer token. */
async function kit(as: CallerName) {
  return new FhirKitClient({ baseUrl: base, bearerToken: await t.tokenFor(as) })
}

/** fhirclient as a server-side app with a token it holds: `smart(req, res).client({ serverUrl, tokenResponse })`. */
async function fc(as: CallerName) {
  const req = { headers: { host: '127.0.0.1' }, socket: {}, url: '/' } as unknown as IncomingMessage
  const res = {} as ServerResponse
  return smart(req, res).client({ serverUrl: base, tokenResponse: { access_token: await t.tokenFor(as) } })
}

/** The HTTP answer fhir-kit-client attaches to each result. */
const responseOf = (result: unknown) => (result as Record<typeof RESPONSE_KEY, Response>)[RESPONSE_KEY]

/** What fhir-kit-client throws for a 4xx/5xx: the status and the OperationOutcome. */
async function kitError(promise: Promise<unknown>): Promise<{ status: number; outcome: OperationOutcome }> {
  try {
    await promise
  } catch (err) {
    const e = err as { response?: { status: number; data: OperationOutcome } }
    if (e.response) return { status: e.response.status, outcome: e.response.data }
    throw err
  }
  throw new Error('expected the request to fail')
}

const inDays = (days: number) => new Date(t.clock.now().getTime() + days * 24 * 3600_000).toISOString()

function departure(start: string): Task {
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: SYSTEM.taskCode, code: 'departure' }] },
    for: { identifier: { system: SYSTEM.vNummer, value: V_NUMMER } },
    requester: { identifier: { system: SYSTEM.ura, value: URA.dtv } },
    owner: { identifier: { system: SYSTEM.ura, value: URA.dvo } },
    executionPeriod: { start },
  }
}

// The walkthrough's state, built by the first describe and used by the named tests.
let patientId = ''
let consentToken = ''
let consentId = ''
let departureId = ''

describe('the README walkthrough through fhir-kit-client', () => {
  it('1. the GZA doctor records the consent; the answer carries the consent token and an absolute Location that reads', async () => {
    const gza = await kit('gzaDoctor')
    const consent = (await gza.create({ resourceType: 'Consent', body: consentExample as never })) as unknown as Consent
    const response = responseOf(consent)
    expect(response.status).toBe(201)
    consentToken = response.headers.get('x-consent-token')!
    expect(consentToken).toBeTruthy()
    consentId = consent.id!
    const location = response.headers.get('location')!
    expect(location).toBe(`${base}/Consent/${consentId}/_history/1`)
    const read = (await gza.request(location)) as unknown as Consent
    expect(read.id).toBe(consentId)
  })

  it('2. the doctor uploads the handover bundle', async () => {
    const gza = await kit('gzaDoctor')
    const stored = (await gza.create({ resourceType: 'Bundle', body: bundleExample as never })) as unknown as Bundle
    expect(responseOf(stored).status).toBe(201)
    expect(stored.meta?.versionId).toBe('1')
  })

  it("3. the patient's id is found by V-nummer", async () => {
    const gza = await kit('gzaDoctor')
    const found = (await gza.search({ resourceType: 'Patient', searchParams: { identifier: `${SYSTEM.vNummer}|${V_NUMMER}` } })) as unknown as Bundle
    expect(found.total).toBe(1)
    patientId = found.entry![0]!.resource!.id!
    expect(found.entry![0]!.fullUrl).toBe(`${base}/Patient/${patientId}`)
  })

  it('4. the escort nurse reads the dossier with operation(), which posts the consent token as a Parameters input', async () => {
    const nurse = await kit('escortNurse')
    const dossier = (await nurse.operation({
      name: '$handover',
      resourceType: 'Patient',
      id: patientId,
      input: { resourceType: 'Parameters', parameter: [{ name: 'consent-token', valueString: consentToken }] },
    })) as unknown as Bundle
    expect(dossier.resourceType).toBe('Bundle')
    expect(dossier.entry!.length).toBe(bundleExample.entry!.length)
  })

  it('5. the regievoerder announces the departure in three days', async () => {
    const dtv = await kit('regievoerder')
    const task = (await dtv.create({ resourceType: 'Task', body: departure(inDays(3)) as never })) as unknown as Task
    expect(responseOf(task).status).toBe(201)
    departureId = task.id!
  })

  it('6. the regievoerder reads the handelingsperspectief: codes, no diagnosis or medication name', async () => {
    const dtv = await kit('regievoerder')
    const perspective = (await dtv.operation({ name: '$handelingsperspectief', resourceType: 'Patient', id: patientId, method: 'GET' })) as unknown as Parameters
    expect(perspective.resourceType).toBe('Parameters')
    const text = JSON.stringify(perspective)
    expect(text).toContain('medical-escort')
    expect(text).not.toMatch(/diabet|insulin|metformin/i)
  })

  it('7. the DV&O escort reads it too, by POST, the operation default', async () => {
    const dvo = await kit('dvoEscort')
    const perspective = (await dvo.operation({ name: '$handelingsperspectief', resourceType: 'Patient', id: patientId })) as unknown as Parameters
    expect(perspective.resourceType).toBe('Parameters')
  })

  it('8. the regievoerder cannot read the dossier itself, token or not: 404', async () => {
    const dtv = await kit('regievoerder')
    const refused = await kitError(
      dtv.operation({ name: '$handover', resourceType: 'Patient', id: patientId, input: { resourceType: 'Parameters', parameter: [{ name: 'consent-token', valueString: consentToken }] } }),
    )
    expect(refused.status).toBe(404)
    expect(refused.outcome.resourceType).toBe('OperationOutcome')
  })
})

describe('the README walkthrough through fhirclient', () => {
  it('a second consent, upload, search, dossier read, departure and perspective, as fhirclient does them', async () => {
    const gza = await fc('gzaDoctor')
    const created = await gza.create(consentExample as never, { includeResponse: true } as never)
    const combined = created as unknown as { response: Response; body: Consent }
    expect(combined.response.status).toBe(201)
    const token = combined.response.headers.get('x-consent-token')!

    // Prefer: return=minimal: 201 without a body, and fhirclient fetches the absolute Location with
    // the same headers (a dossier read needs the consent token, the uploader's too).
    const minimal = (await gza.create(bundleExample as never, {
      headers: { Prefer: 'return=minimal', 'X-Consent-Token': token },
      includeResponse: true,
    } as never)) as unknown as { response: Response; body: Bundle }
    expect(minimal.response.status).toBe(200)
    expect(minimal.body.resourceType).toBe('Bundle')
    const location = minimal.response.url
    expect(location).toBe(`${base}/Bundle/${minimal.body.id}/_history/1`)

    const found = (await gza.request(`Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${V_NUMMER}`)}`)) as unknown as Bundle
    expect(found.entry![0]!.resource!.id).toBe(patientId)

    const nurse = await fc('escortNurse')
    const dossier = (await nurse.request({ url: `Patient/${patientId}/$handover`, headers: { 'X-Consent-Token': token } })) as unknown as Bundle
    expect(dossier.resourceType).toBe('Bundle')
    const byLocation = (await nurse.request({ url: location, headers: { 'X-Consent-Token': token } })) as unknown as Bundle
    expect(byLocation.resourceType).toBe('Bundle')

    const dtv = await fc('regievoerder')
    const task = (await dtv.create(departure(inDays(4)) as never)) as unknown as Task
    expect(task.status).toBe('requested')
    const perspective = (await dtv.request(`Patient/${patientId}/$handelingsperspectief`)) as unknown as Parameters
    expect(perspective.resourceType).toBe('Parameters')
  })
})

describe('what used to break generic client code, through the clients', () => {
  it('fhir-kit-client vreads a Task and a Consent, and reads their history', async () => {
    const dtv = await kit('regievoerder')
    const v1 = (await dtv.vread({ resourceType: 'Task', id: departureId, version: '1' })) as unknown as Task
    expect(v1.meta?.versionId).toBe('1')
    const history = (await dtv.history({ resourceType: 'Task', id: departureId })) as unknown as Bundle
    expect(history.type).toBe('history')
    const gza = await kit('gzaDoctor')
    const consent = (await gza.vread({ resourceType: 'Consent', id: consentId, version: '1' })) as unknown as Consent
    expect(consent.status).toBe('active')
  })

  it('a Task read from a search is updated back (read-modify-write) by fhir-kit-client and by fhirclient', async () => {
    const dvo = await kit('dvoEscort')
    const inbox = (await dvo.search({ resourceType: 'Task', searchParams: { owner: URA.dvo } })) as unknown as Bundle<Task>
    const task = inbox.entry!.map((e) => e.resource!).find((r) => r.id === departureId)!
    expect(task.extension?.length).toBeGreaterThan(0)
    const accepted = (await dvo.update({ resourceType: 'Task', id: task.id!, body: { ...task, status: 'accepted' } as never })) as unknown as Task
    expect(accepted.status).toBe('accepted')

    const viaFc = await fc('dvoEscort')
    const again = (await viaFc.request(`Task/${departureId}`)) as unknown as Task
    const started = (await viaFc.update({ ...again, status: 'in-progress' } as never)) as unknown as Task
    expect(started.status).toBe('in-progress')
  })

  it('fhir-kit-client pages with nextPage, and fhirclient follows next links with pageLimit 0, each task once', async () => {
    const dtv = await kit('regievoerder')
    for (let i = 0; i < 4; i++) await dtv.create({ resourceType: 'Task', body: departure(inDays(10 + i)) as never })
    const ids: string[] = []
    let page = (await dtv.search({ resourceType: 'Task', searchParams: { requester: URA.dtv, _count: 2 } })) as unknown as Bundle | undefined
    const total = page!.total!
    while (page) {
      ids.push(...(page.entry ?? []).map((e) => e.resource!.id!))
      page = (await dtv.nextPage({ bundle: page as never })) as unknown as Bundle | undefined
    }
    expect(ids.length).toBe(total)
    expect(new Set(ids).size).toBe(total)

    const viaFc = await fc('regievoerder')
    const all = (await viaFc.request(`Task?requester=${URA.dtv}&_count=2`, { pageLimit: 0, flat: true })) as unknown as Task[]
    expect(all.map((r) => r.id).sort()).toEqual([...ids].sort())
  })

  it('a comma-OR identifier search finds the patient, and an unknown parameter under handling=strict is refused', async () => {
    const gza = await kit('gzaDoctor')
    const found = (await gza.search({
      resourceType: 'Patient',
      searchParams: { identifier: `${SYSTEM.vNummer}|V0000000000,${SYSTEM.vNummer}|${V_NUMMER}` },
    })) as unknown as Bundle
    expect(found.entry!.map((e) => e.resource!.id)).toEqual([patientId])
    const strict = await kitError(gza.search({ resourceType: 'Task', searchParams: { requester: URA.gza, _sort: 'date' }, options: { headers: { Prefer: 'handling=strict' } } }))
    expect(strict.status).toBe(400)
  })

  it('_summary=count through fhir-kit-client answers the total alone', async () => {
    const dtv = await kit('regievoerder')
    const counted = (await dtv.search({ resourceType: 'Task', searchParams: { requester: URA.dtv, _summary: 'count' } })) as unknown as Bundle
    expect(counted.total).toBeGreaterThan(0)
    expect(counted.entry).toBeUndefined()
  })

  it('a notified-pull Task is put by identifier twice by its requester with fhir-kit-client: created, then updated; the receiver accepts it by id', async () => {
    const gza = await kit('gzaDoctor')
    const identifier = `urn:ietf:rfc:3986|urn:uuid:${crypto.randomUUID()}`
    const [system, value] = [identifier.slice(0, identifier.indexOf('|')), identifier.slice(identifier.indexOf('|') + 1)]
    const body: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      identifier: [{ system, value }],
      code: { coding: [{ system: SYSTEM.taskCode, code: 'transfer' }] },
      for: { identifier: { system: SYSTEM.vNummer, value: V_NUMMER } },
      requester: { identifier: { system: SYSTEM.ura, value: URA.gza } },
      owner: { identifier: { system: SYSTEM.ura, value: URA.dji } },
      executionPeriod: { start: inDays(5) },
      input: [{ type: { coding: [{ system: TASK_INPUT_SYSTEM, code: 'patient' }] }, valueReference: { reference: `Patient/${patientId}` } }],
    }
    const created = (await gza.update({ resourceType: 'Task', searchParams: { identifier }, body: body as never })) as unknown as Task
    expect(responseOf(created).status).toBe(201)
    const moved = (await gza.update({ resourceType: 'Task', searchParams: { identifier }, body: { ...body, executionPeriod: { start: inDays(6) } } as never })) as unknown as Task
    expect(responseOf(moved).status).toBe(200)
    expect(moved.id).toBe(created.id)
    // The receiver changes it by id, as an owner does.
    const dji = await kit('djiNurse')
    const accepted = (await dji.update({ resourceType: 'Task', id: created.id!, body: { ...moved, status: 'accepted' } as never })) as unknown as Task
    expect(accepted.status).toBe('accepted')
  })

  it('an unsupported method gets 405 and XML gets 406 through fhir-kit-client, each with an OperationOutcome', async () => {
    const dtv = await kit('regievoerder')
    const deleted = await kitError(dtv.delete({ resourceType: 'Task', id: departureId }))
    expect(deleted.status).toBe(405)
    expect(deleted.outcome.resourceType).toBe('OperationOutcome')
    const xml = await kitError(dtv.read({ resourceType: 'Task', id: departureId, options: { headers: { Accept: 'application/fhir+xml' } } }))
    expect(xml.status).toBe(406)
  })
})
