import type { Bundle, Parameters } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { consentResource, handoverBundle, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA } from './support/people.js'
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

async function patientWithDossier() {
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(consent.status, await text(consent)).toBe(201)
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
  expect(upload.status, await text(upload)).toBe(201)
  const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
  const patientId = ((await search.json()) as Bundle).entry![0]!.resource!.id!
  return { vNummer, patientId, token: consent.headers.get('x-consent-token')!, bundleId: ((await upload.json()) as Bundle).id! }
}

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
