import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateFhirResource } from '../src/fhir/validation.js'
import { createTestApp, type TestApp } from './support/test-app.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

describe('what the service describes of itself', () => {
  it('GET /fhir/metadata answers a valid R4 CapabilityStatement without authentication', async () => {
    const res = await t.get('/fhir/metadata')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/fhir+json')
    const cs = await res.json()
    expect(validateFhirResource(cs)).toEqual([])
    expect(cs.rest[0].resource.map((r: { type: string }) => r.type)).toEqual(['Bundle', 'Patient', 'Consent', 'Task', 'AuditEvent', 'CodeSystem'])
  })

  it('every route the app serves outside /fhir is described in the OpenAPI document', async () => {
    const doc = await (await t.get('/openapi.json')).json()
    const documented = new Set(Object.keys(doc.paths))
    const served = t.app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.startsWith('/fhir') && r.path !== '/openapi.json')
      .map((r) => r.path.replace(/:(\w+)/g, '{$1}'))
    for (const path of served) expect(documented, path).toContain(path)
  })

  it.each(['handelingsperspectief', 'handelingsperspectief-value', 'disclosure-legal-ground'])('GET /fhir/CodeSystem/%s is a valid R4 CodeSystem', async (id) => {
    const res = await t.get(`/fhir/CodeSystem/${id}`)
    expect(res.status).toBe(200)
    expect(validateFhirResource(await res.json())).toEqual([])
  })

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'unknown-system'])('GET /fhir/CodeSystem/%s is 404 OperationOutcome', async (id) => {
    const res = await t.get(`/fhir/CodeSystem/${id}`)
    const text = await res.text()
    expect(res.status, text).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    expect(JSON.parse(text)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] })
  })
})
