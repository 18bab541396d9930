import type { Bundle, Parameters } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { consentResource, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA } from './support/people.js'
import { patientWithDossier as scenarioPatientWithDossier } from './support/scenarios.js'
import { createTestApp, type TestApp } from './support/test-app.js'

/*
 * FHIR REST as generic clients use it (http://hl7.org/fhir/R4/http.html, operations.html):
 * operations that change nothing answer POST as well as GET.
 */

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ settings: { corsOrigins: ['https://app.example'] } })
})
afterAll(async () => {
  await t?.close()
})

const text = (res: Response) => res.clone().text()

const patientWithDossier = () => scenarioPatientWithDossier(t)

describe('operations by POST', () => {
  it('POST $handover with the consent token as a Parameters input answers the same dossier as GET with the header', async () => {
    const p = await patientWithDossier()
    const byGet = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': p.token } })
    const byPost = await t.post(`/fhir/Patient/${p.patientId}/$handover`, {
      as: 'escortNurse',
      body: { resourceType: 'Parameters', parameter: [{ name: 'consent-token', valueString: p.token }] },
    })
    expect(byPost.status, await text(byPost)).toBe(200)
    expect(((await byPost.json()) as Bundle).id).toBe(((await byGet.json()) as Bundle).id)
    const headerOnly = await t.request('POST', `/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': p.token } })
    expect(headerOnly.status, await text(headerOnly)).toBe(200)
  })

  it('POST $handover refuses a token given twice differently, an unknown parameter, and no token at all as GET does', async () => {
    const p = await patientWithDossier()
    const twice = await t.post(`/fhir/Patient/${p.patientId}/$handover`, {
      as: 'escortNurse',
      headers: { 'x-consent-token': p.token },
      body: { resourceType: 'Parameters', parameter: [{ name: 'consent-token', valueString: `${p.token}x` }] },
    })
    expect(twice.status, await text(twice)).toBe(400)
    const unknown = await t.post(`/fhir/Patient/${p.patientId}/$handover`, {
      as: 'escortNurse',
      body: { resourceType: 'Parameters', parameter: [{ name: 'emergency-reason', valueString: 'a reason long enough to count' }] },
    })
    expect(unknown.status, await text(unknown)).toBe(400)
    const none = await t.request('POST', `/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse' })
    expect(none.status, await text(none)).toBe(403)
  })

  it('POST $handelingsperspectief takes the identifier as a Parameters input, type-level, and no input on the instance', async () => {
    const p = await patientWithDossier()
    const task = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: p.vNummer, requester: URA.dtv, owner: URA.dvo, start: '2026-11-27T09:00:00Z' }) })
    expect(task.status, await text(task)).toBe(201)
    const typeLevel = await t.post('/fhir/Patient/$handelingsperspectief', {
      as: 'regievoerder',
      body: { resourceType: 'Parameters', parameter: [{ name: 'identifier', valueIdentifier: { system: SYSTEM.vNummer, value: p.vNummer } }] },
    })
    expect(typeLevel.status, await text(typeLevel)).toBe(200)
    expect(((await typeLevel.json()) as Parameters).resourceType).toBe('Parameters')
    const instance = await t.request('POST', `/fhir/Patient/${p.patientId}/$handelingsperspectief`, { as: 'regievoerder' })
    expect(instance.status, await text(instance)).toBe(200)
    const missing = await t.post('/fhir/Patient/$handelingsperspectief', { as: 'regievoerder', body: { resourceType: 'Parameters' } })
    expect(missing.status, await text(missing)).toBe(400)
  })
})

describe('methods, formats and origins', () => {
  it('a method a route lacks gets 405 with Allow naming the methods it has; an unknown path stays 404', async () => {
    const res = await t.request('DELETE', '/fhir/Task/00000000-0000-4000-8000-000000000000', { as: 'regievoerder' })
    const body = await text(res)
    expect(res.status, body).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS, PUT')
    expect(JSON.parse(body).issue[0].code).toBe('not-supported')
    expect((await t.request('PATCH', '/fhir/Consent', { as: 'gzaDoctor' })).headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST')
    expect((await t.request('GET', '/fhir/Nothing/here', { as: 'gzaDoctor' })).status).toBe(404)
  })

  it('XML, another FHIR version, or an Accept no JSON answer satisfies get 406; a body of another FHIR version 415', async () => {
    const p = await patientWithDossier()
    for (const [path, headers] of [
      [`/fhir/Patient/${p.patientId}/$handover?_format=xml`, {}],
      [`/fhir/Patient/${p.patientId}/$handover`, { accept: 'application/fhir+xml' }],
      [`/fhir/Patient/${p.patientId}/$handover`, { accept: 'application/fhir+json; fhirVersion=3.0' }],
      ['/fhir/metadata?_format=application/fhir+xml', {}],
    ] as const) {
      const res = await t.get(path, { as: 'escortNurse', headers: { 'x-consent-token': p.token, ...headers } })
      expect(res.status, `${path} ${JSON.stringify(headers)}: ${await text(res)}`).toBe(406)
    }
    const ok = await t.get(`/fhir/Patient/${p.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': p.token, accept: 'application/fhir+json; fhirVersion=4.0, application/fhir+xml;q=0.5' } })
    expect(ok.status, await text(ok)).toBe(200)
    const html = await t.get(`/fhir/Patient/${p.patientId}/$access-log?_format=html`, { as: 'privacyOfficer' })
    expect(html.status, await text(html)).toBe(200)
    const r3 = await t.request('POST', '/fhir/Consent', {
      as: 'gzaDoctor',
      headers: { 'content-type': 'application/fhir+json; fhirVersion=3.0' },
      rawBody: JSON.stringify(consentResource({ vNummer: newVNummer() })),
    })
    expect(r3.status, await text(r3)).toBe(415)
  })

  it('OPTIONS needs no token: 204 with Allow, and for an allowed origin the preflight headers; another origin gets no CORS header', async () => {
    const preflight = await t.app.request('/fhir/Patient/x/$handover', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, x-consent-token' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST')
    expect(preflight.headers.get('x-request-id')).toBeTruthy()
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-Consent-Token')
    const stranger = await t.app.request('/fhir/metadata', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })
    expect(stranger.status).toBe(204)
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull()
    const read = await t.app.request('/fhir/metadata', { headers: { origin: 'https://app.example' } })
    expect(read.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(read.headers.get('access-control-expose-headers')).toContain('Location')
    const other = await t.app.request('/fhir/metadata', { headers: { origin: 'https://evil.example' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    expect((await t.app.request('/fhir/no/such/path', { method: 'OPTIONS' })).status).toBe(404)
  })
})
