import type { Bundle } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handoverBundle, taskResource } from './support/fhir-builders.js'
import { URA } from './support/people.js'
import { patientWithDossier } from './support/scenarios.js'
import { createTestApp, type TestApp } from './support/test-app.js'

/**
 * How many statements a decision costs: the facts of the busiest decisions come in one statement
 * (src/access/patient-facts.ts). The audit entry's group commit is counted apart: it is the same
 * for every action and shared between concurrent requests.
 */

const statements: string[] = []
let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ onStatement: (sql) => statements.push(sql) })
})
afterAll(async () => t?.close())

const DAY = 24 * 3600_000
const AUDIT = /\baudit_(event|chain)\b|^\s*(begin|commit|rollback)\b|pg_advisory|signing_key/i

/** The statements one request ran, apart from the audit log's group commit and the key ring's reloads. */
async function statementsOf(request: () => Promise<Response>, expectStatus: number): Promise<string[]> {
  statements.length = 0
  const res = await request()
  const body = await res.clone().text()
  expect(res.status, body).toBe(expectStatus)
  // The group commit runs after the answer is decided; give it a moment so its statements are seen and left out.
  await new Promise((r) => setTimeout(r, 50))
  return statements.filter((s) => !AUDIT.test(s))
}

describe('one statement gathers the facts of a decision', () => {
  it('a dossier read with a consent token runs one statement: version, data key, consents and relationships together', async () => {
    const d = await patientWithDossier(t)
    const run = await statementsOf(() => t.get(`/fhir/Patient/${d.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': d.token } }), 200)
    expect(run, run.join('\n---\n')).toHaveLength(1)
    const byId = await statementsOf(() => t.get(`/fhir/Bundle/${d.bundleId}`, { as: 'escortNurse', headers: { 'x-consent-token': d.token } }), 200)
    expect(byId, byId.join('\n---\n')).toHaveLength(1)
  })

  it('a refused dossier read (a token of another patient) runs the same one statement and releases nothing', async () => {
    const a = await patientWithDossier(t)
    const b = await patientWithDossier(t)
    const run = await statementsOf(() => t.get(`/fhir/Patient/${a.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': b.token } }), 403)
    expect(run, run.join('\n---\n')).toHaveLength(1)
  })

  it('a handelingsperspectief read of a departure party runs one statement: patient, relationships, consents, perspective and departure', async () => {
    const d = await patientWithDossier(t)
    const task = await t.post('/fhir/Task', {
      as: 'regievoerder',
      body: taskResource({ vNummer: d.vNummer, requester: URA.dtv, owner: URA.dvo, recipients: [URA.coa], start: new Date(t.clock.now().getTime() + 3 * DAY).toISOString() }),
    })
    expect(task.status, await task.clone().text()).toBe(201)
    const run = await statementsOf(() => t.get(`/fhir/Patient/${d.patientId}/$handelingsperspectief`, { as: 'regievoerder' }), 200)
    expect(run, run.join('\n---\n')).toHaveLength(1)
    const body = (await (await t.get(`/fhir/Patient/${d.patientId}/$handelingsperspectief`, { as: 'regievoerder' })).json()) as { parameter: { name: string }[] }
    expect(body.parameter.map((p) => p.name)).toContain('plannedDeparture')
  })

  it('an unrelated organisation asking for the handelingsperspectief gets 404 from the same one statement', async () => {
    const d = await patientWithDossier(t)
    const run = await statementsOf(() => t.get(`/fhir/Patient/${d.patientId}/$handelingsperspectief`, { as: 'regievoerder' }), 404)
    expect(run, run.join('\n---\n')).toHaveLength(1)
  })

  it("an upload's decision needs two statements: the identifiers' holders, then the patient's lock with its consents and relationships", async () => {
    const d = await patientWithDossier(t)
    const run = await statementsOf(() => t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(d.vNummer) }), 201)
    const firstWrite = run.findIndex((s) => /^\s*(insert|update|delete)\b/i.test(s))
    const beforeAct = run.slice(0, firstWrite)
    expect(beforeAct, run.join('\n---\n')).toHaveLength(2)
    expect(beforeAct[1]).toMatch(/for update of/i)
    const stored = (await (await t.get(`/fhir/Patient/${d.patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': d.token } })).json()) as Bundle
    expect(stored.meta?.extension?.some((e) => e.valueInteger === 2)).toBe(true)
  })
})
