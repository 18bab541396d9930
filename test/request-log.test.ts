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
