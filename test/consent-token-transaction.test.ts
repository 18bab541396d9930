import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { consentResource, newVNummer } from './support/fhir-builders.js'
import { createTestApp, type TestApp } from './support/test-app.js'

/*
 * `$token` signs its token after the decision's transaction. Inside it, the consent key ring's
 * first read of its keys waited on the embedded database's one connection, which the transaction
 * held: the request, and every later one needing the database, hung. A consent without a handover
 * purpose mints no token when recorded, so here `$token` is the key ring's first use.
 */
let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

describe('$token and the key ring', () => {
  it('a token for a named recipient is answered when it is the key ring’s first use, and the service keeps answering', async () => {
    const consent = await t.post('/fhir/Consent', {
      as: 'gzaDoctor',
      body: consentResource({ vNummer: newVNummer(), provisions: [{ purpose: ['action-perspective'], orgType: ['dtv'] }] }),
    })
    expect(consent.status, await consent.clone().text()).toBe(201)
    expect(consent.headers.get('x-consent-token')).toBeNull()
    const id = ((await consent.json()) as { id: string }).id
    const res = await t.post(`/fhir/Consent/${id}/$token`, {
      as: 'gzaDoctor',
      body: { resourceType: 'Parameters', parameter: [{ name: 'recipient', valueIdentifier: { system: SYSTEM.ura, value: '90000003' } }] },
    })
    expect(res.status, await res.clone().text()).toBe(200)
    const again = await t.get(`/fhir/Consent/${id}`, { as: 'gzaDoctor' })
    expect(again.status, await again.clone().text()).toBe(200)
  }, 15_000)
})
