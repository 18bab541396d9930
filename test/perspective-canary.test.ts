import type { Bundle, Resource } from '@medplum/fhirtypes'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import {
  exampleActionFlag,
  exampleAlertFlag,
  exampleFitToTravelObservation,
  exampleHandoverBundle,
  exampleMedicalPostponementObservation,
  exampleMedicationStatement,
} from '../src/perspective/examples.js'
import { ACTION_CODES } from '../src/perspective/vocabulary.js'
import { consentResource, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'
import { Receiver } from './support/receiver.js'
import { DEFAULT_NOTIFY_SETTINGS } from '../src/deps.js'
import { createDispatcher } from '../src/notifications/dispatcher.js'
import { announceHandoversAtRisk } from '../src/tasks/task.service.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

const NON_CAREGIVERS: CallerName[] = ['regievoerder', 'dvoEscort', 'kmarEscort', 'coaCaseManager', 'privacyOfficer']

/** Puts the canary in every free-text, narrative, display and note field the resources have. */
function withCanaries(resource: Resource, canary: (field: string) => string): Resource {
  const r = structuredClone(resource) as Record<string, any>
  r.text = { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${canary('narrative')}</div>` }
  if (r.code) {
    r.code.text = canary('code.text')
    for (const c of r.code.coding ?? []) c.display = canary('display')
  }
  if (r.resourceType === 'Observation' || r.resourceType === 'MedicationStatement') r.note = [{ text: canary('note') }]
  if (r.resourceType === 'Observation') {
    r.valueCodeableConcept.text = canary('value.text')
    for (const c of r.valueCodeableConcept.coding ?? []) c.display = canary('value.display')
  }
  if (r.resourceType === 'MedicationStatement') r.medicationCodeableConcept = { text: canary('medication') }
  if (r.resourceType === 'Flag') r.category = [{ text: canary('category') }]
  return r as Resource
}

const arbCanary = fc.stringMatching(/^[A-Za-z0-9]{6,12}$/).map((s) => `CANARY${s}`)
const arbScenario = fc.record({
  canary: arbCanary,
  codes: fc.subarray([...ACTION_CODES.filter((c) => c !== 'fit-to-travel' && c !== 'medical-postponement' && c !== 'medication-accompanies')], { minLength: 1 }),
  fit: fc.constantFrom('yes' as const, 'no' as const, 'conditional' as const, 'unknown' as const),
  postponement: fc.constantFrom('none' as const, 'requested' as const, 'granted' as const, 'rejected' as const),
  legalGround: fc.boolean(),
  consentForPerspective: fc.boolean(),
  withdrawn: fc.boolean(),
  mrsa: fc.boolean(),
})

describe('P8: no medical content reaches non-caregivers', () => {
  it('no canary from a bundle appears in any non-caregiver response, error body or log line, for every role and consent state', async () => {
    await fc.assert(
      fc.asyncProperty(arbScenario, async (s) => {
        const mark = (field: string) => `${s.canary}-${field}`
        const vNummer = newVNummer()
        const now = t.clock.now().toISOString()
        const resources: Resource[] = [
          exampleFitToTravelObservation(s.fit, now),
          exampleMedicalPostponementObservation(s.postponement, now, s.postponement === 'granted' ? { until: '2027-06-01' } : {}),
          exampleMedicationStatement(),
          ...s.codes.map((code) => exampleActionFlag(code, s.legalGround && (code === 'extra-supervision' || code === 'hygiene-measures') ? { legalGround: 'legal-obligation' } : {})),
          ...(s.mrsa ? [exampleAlertFlag('432415000')] : []),
          { resourceType: 'Condition', subject: { reference: 'urn:uuid:0b7c2a9e-1d4f-4c1a-9a57-3e2f5d6c0001' }, code: { text: 'x' } } as Resource,
        ].map((r) => withCanaries(r, mark))
        const bundle: Bundle = exampleHandoverBundle(vNummer, resources)
        ;(bundle.entry![0]!.resource as unknown as Record<string, unknown>).name = [{ family: mark('family'), given: [mark('given')] }]

        const consent = await t.post('/fhir/Consent', {
          as: 'gzaDoctor',
          body: consentResource({
            vNummer,
            provisions: [
              { purpose: ['handover'], orgType: ['medical-escort'] },
              ...(s.consentForPerspective ? [{ purpose: ['action-perspective'], orgType: ['dtv', 'dvo', 'kmar', 'coa'] }] : []),
            ],
          }),
        })
        expect(consent.status, await consent.clone().text()).toBe(201)
        const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
        expect(upload.status, await upload.clone().text()).toBe(201)
        const { id: bundleId } = (await upload.json()) as Bundle
        const task = await t.post('/fhir/Task', {
          as: 'regievoerder',
          body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, recipients: [URA.kmar, URA.coa], start: s.postponement === 'granted' ? '2027-07-01T08:00:00Z' : new Date(Date.parse(now) + 86_400_000).toISOString() }),
        })
        expect(task.status).toBe(201)
        const taskId = ((await task.json()) as { id: string }).id
        const patientId = ((await (await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })).json()) as Bundle).entry![0]!.resource!.id!
        if (s.withdrawn) {
          const consentId = ((await consent.json()) as { id: string }).id
          const w = await t.put(`/fhir/Consent/${consentId}`, { as: 'gzaDoctor', body: { ...consentResource({ vNummer }), id: consentId, status: 'inactive' } })
          expect(w.status).toBe(200)
        }
        // An invalid upload carrying the canary: its error body must not echo it either.
        const invalid = structuredClone(bundle)
        ;(invalid.entry![1]!.resource as unknown as Record<string, unknown>).status = mark('status')

        const bodies: string[] = []
        const token = consent.headers.get('x-consent-token')!
        for (const as of NON_CAREGIVERS) {
          for (const res of [
            await t.get(`/fhir/Patient/${patientId}/$handelingsperspectief`, { as }),
            await t.get(`/fhir/Patient/$handelingsperspectief?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as }),
            await t.get(`/fhir/Patient/${patientId}/$handover`, { as, headers: { 'x-consent-token': token } }),
            await t.get(`/fhir/Bundle/${bundleId}`, { as, headers: { 'x-consent-token': token, 'x-emergency-reason': 'a long enough emergency reason here' } }),
            await t.get(`/fhir/Task/${taskId}`, { as }),
            await t.get(`/fhir/Task?owner=${URA.dvo}`, { as }),
            await t.post('/fhir/Bundle', { as, body: invalid }),
          ]) {
            bodies.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`)
          }
        }
        const caregiverError = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: invalid })
        expect(caregiverError.status).toBe(422)
        bodies.push(await caregiverError.text())
        const everything = bodies.join('\n') + t.logLines.join('')
        return !everything.includes(s.canary)
      }),
      { numRuns: 12 },
    )
  })
})

describe('P8 for notifications: nothing of a bundle and no person identifier reaches a receiver', () => {
  let n: TestApp
  let receiver: Receiver
  beforeAll(async () => {
    n = await createTestApp({ settings: { developmentMode: true, notify: { ...DEFAULT_NOTIFY_SETTINGS, allowHosts: ['127.0.0.1'] } } })
    receiver = await new Receiver().start()
  })
  afterAll(async () => {
    await receiver?.stop()
    await n?.close()
  })

  it('no canary string of a bundle, V-nummer or BSN is in any notification body or header, for every event kind', async () => {
    const canary = 'CANARYnotify7Q2'
    const mark = (field: string) => `${canary}-${field}`
    const vNummer = newVNummer()
    const bsn = '999990019'
    const now = n.clock.now().toISOString()
    const subscribers: [CallerName, string][] = [
      ['djiNurse', `Task?owner=${URA.dji}`],
      ['gzaDoctor', `Task?requester=${URA.gza}`],
      ['dvoEscort', `Task?owner=${URA.dvo}`],
      ['coaCaseManager', `Task?owner=${URA.coa}`],
      ['regievoerder', `Task?requester=${URA.dtv}`],
    ]
    for (const [as, criteria] of subscribers) {
      const res = await n.post('/fhir/Subscription', {
        as,
        body: { resourceType: 'Subscription', status: 'requested', reason: 'inbox', criteria, channel: { type: 'rest-hook', endpoint: receiver.url } },
      })
      expect(res.status, await res.clone().text()).toBe(201)
    }
    const resources: Resource[] = [
      exampleFitToTravelObservation('conditional', now),
      exampleMedicationStatement(),
      exampleActionFlag('extra-supervision', { legalGround: 'legal-obligation' }),
    ].map((r) => withCanaries(r, mark))
    const bundle: Bundle = exampleHandoverBundle(vNummer, resources)
    const patient = bundle.entry![0]!.resource as unknown as Record<string, any>
    patient.name = [{ family: mark('family'), given: [mark('given')] }]
    patient.identifier = [...patient.identifier, { system: SYSTEM.bsn, value: bsn }]

    const consent = await n.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
    expect(consent.status, await consent.clone().text()).toBe(201)
    const consentId = ((await consent.json()) as { id: string }).id
    const upload = await n.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(upload.status, await upload.clone().text()).toBe(201)
    const soon = new Date(Date.parse(now) + 12 * 3600_000).toISOString()
    const transferSpec = { vNummer, code: 'transfer' as const, requester: URA.gza, owner: URA.dji, start: soon }
    const transfer = await n.post('/fhir/Task', { as: 'gzaDoctor', body: taskResource(transferSpec) })
    expect(transfer.status, await transfer.clone().text()).toBe(201)
    const transferId = ((await transfer.json()) as { id: string }).id
    const departure = await n.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, recipients: [URA.coa], start: soon }) })
    expect(departure.status, await departure.clone().text()).toBe(201)
    const again = await n.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(again.status, await again.clone().text()).toBe(201)
    const accept = await n.put(`/fhir/Task/${transferId}`, { as: 'djiNurse', body: { ...taskResource({ ...transferSpec, status: 'accepted' }), id: transferId } })
    expect(accept.status, await accept.clone().text()).toBe(200)
    expect(await announceHandoversAtRisk(n.deps)).toBeGreaterThan(0)
    const w = await n.put(`/fhir/Consent/${consentId}`, { as: 'gzaDoctor', body: { ...consentResource({ vNummer }), id: consentId, status: 'inactive' } })
    expect(w.status, await w.clone().text()).toBe(200)
    const cancel = await n.put(`/fhir/Task/${transferId}`, { as: 'gzaDoctor', body: { ...taskResource({ ...transferSpec, status: 'cancelled' }), id: transferId } })
    expect(cancel.status, await cancel.clone().text()).toBe(200)

    const dispatcher = createDispatcher(n.deps)
    while ((await dispatcher.runOnce()) > 0);
    const kinds = new Set(receiver.received.map((r) => (JSON.parse(r.body) as { kind: string }).kind))
    expect([...kinds].sort()).toEqual(['consent-withdrawn', 'dossier-version', 'handover-at-risk', 'task-cancelled', 'task-changed', 'task-created'])
    const everything = receiver.received.map((r) => `${JSON.stringify(r.headers)}\n${r.body}`).join('\n') + n.logLines.join('')
    for (const secret of [canary, vNummer, bsn, 'Testpersoon']) expect(everything.includes(secret), secret).toBe(false)
  })
})
