import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consentResource, newVNummer } from './support/fhir-builders.js'
import { createTestApp, type TestApp } from './support/test-app.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

const lastRequestLine = () =>
  t.logLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'request')
    .at(-1)!

describe('structured request logs', () => {
  it('a request log line names the route pattern, not the path with its ids', async () => {
    const vNummer = newVNummer()
    const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
    expect(res.status).toBe(201)
    const id = ((await res.json()) as { id: string }).id
    const read = await t.get(`/fhir/Consent/${id}`, { as: 'gzaDoctor' })
    expect(read.status).toBe(200)
    const line = lastRequestLine()
    expect(line).toMatchObject({ method: 'GET', route: '/fhir/Consent/:id', status: 200 })
    expect(typeof line.requestId).toBe('string')
    expect(typeof line.durationMs).toBe('number')
    expect(JSON.stringify(line)).not.toContain(id)
  })

  it('the answer carries the request id that the error body and the log line carry', async () => {
    const res = await t.get('/fhir/Consent/unknown-id', { as: 'gzaDoctor' })
    const body = (await res.json()) as { id: string }
    expect(res.status).toBe(404)
    expect(res.headers.get('x-request-id')).toBe(body.id)
    expect(lastRequestLine().requestId).toBe(body.id)
  })

  it('public endpoints are logged under their own route', async () => {
    await t.get('/fhir/metadata')
    expect(lastRequestLine()).toMatchObject({ route: '/fhir/metadata', status: 200 })
  })

  it('log lines carry no tokens, identifiers or bodies', async () => {
    const vNummer = newVNummer()
    const token = await t.tokenFor('gzaDoctor')
    await t.post('/fhir/Consent', { token, body: consentResource({ vNummer }) })
    const all = t.logLines.join('')
    expect(all).not.toContain(vNummer)
    expect(all).not.toContain(token.split('.')[1]!)
    expect(all).not.toContain('signed form')
  })
})

describe('request correlation', () => {
  const auditOf = async (requestId: string) => t.db.selectFrom('audit_event').select('request_id').where('request_id', '=', requestId).execute()

  it('a UUID in X-Request-Id is kept as the request id: in the answer, the log line and the audit entry', async () => {
    const requestId = '3f2b1c9e-8d4a-4e6f-9a1b-2c3d4e5f6a7b'
    const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: newVNummer() }), headers: { 'x-request-id': requestId.toUpperCase() } })
    expect(res.status, await res.clone().text()).toBe(201)
    expect(res.headers.get('x-request-id')).toBe(requestId)
    expect(lastRequestLine().requestId).toBe(requestId)
    expect((await auditOf(requestId)).length).toBeGreaterThan(0)
  })

  it('the trace id of a W3C traceparent is kept as the request id', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736'
    const res = await t.get('/fhir/Task?owner=90000005', { as: 'dvoEscort', headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(res.headers.get('x-request-id')).toBe(trace)
    expect((await auditOf(trace)).length).toBe(1)
  })

  it.each([
    '111222333',
    'V1234567890',
    'Jan Jansen',
    'x'.repeat(200),
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00000000-0000-0000-0000-000123456782',
    'ff-42534e2031323334353637383220504a-00f067aa0ba902b7-01',
  ])(
    'a request id that is no UUID or trace id (%s) is replaced: a chosen string could be a personal identifier',
    async (chosen) => {
      const res = await t.get('/fhir/Task?owner=90000005', { as: 'dvoEscort', headers: { 'x-request-id': chosen, traceparent: chosen } })
      expect(res.status, await res.clone().text()).toBe(200)
      const id = res.headers.get('x-request-id')!
      expect(id).not.toBe(chosen)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(JSON.stringify(t.logLines.slice(-3))).not.toContain(chosen)
    },
  )
})
