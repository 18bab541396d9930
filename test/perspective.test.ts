import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import {
  exampleActionFlag,
  exampleFitToTravelObservation,
  exampleHandoverBundle,
  exampleMedicalPostponementObservation,
  exampleMedicationStatement,
} from '../src/perspective/examples.js'
import { consentResource, newVNummer, taskResource, type ProvisionSpec } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

const DAY = 24 * 3600_000
const text = (res: Response) => res.clone().text()

/** Every code of the vocabulary present: the safety-critical ones marked with a legal ground. */
function fullBundle(vNummer: string): Bundle {
  const now = t.clock.now().toISOString()
  return exampleHandoverBundle(vNummer, [
    exampleFitToTravelObservation('conditional', now),
    exampleMedicalPostponementObservation('requested', now),
    exampleMedicationStatement({ medicationText: 'GEHEIM-medicijn Clozapine 100 mg' }),
    exampleActionFlag('medical-escort-required'),
    exampleActionFlag('contact-medical-service'),
    exampleActionFlag('extra-supervision', { legalGround: 'conflict-of-duties' }),
    exampleActionFlag('hygiene-measures'),
    exampleActionFlag('mobility-aid'),
    exampleActionFlag('restraints-medically-discouraged'),
  ])
}

interface Setup {
  vNummer: string
  patientId: string
}

async function setup(opts: { provisions?: ProvisionSpec[]; task?: boolean; bundle?: (v: string) => Bundle } = {}): Promise<Setup> {
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer, ...(opts.provisions ? { provisions: opts.provisions } : {}) }) })
  expect(consent.status, await text(consent)).toBe(201)
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: (opts.bundle ?? fullBundle)(vNummer) })
  expect(upload.status, await text(upload)).toBe(201)
  if (opts.task !== false) {
    const task = await t.post('/fhir/Task', {
      as: 'regievoerder',
      body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, recipients: [URA.kmar, URA.coa], start: new Date(t.clock.now().getTime() + 3 * DAY).toISOString() }),
    })
    expect(task.status, await text(task)).toBe(201)
  }
  const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
  return { vNummer, patientId: ((await search.json()) as Bundle).entry![0]!.resource!.id! }
}

const param = (p: Parameters, name: string) => p.parameter?.filter((x) => x.name === name) ?? []
const codes = (p: Parameters) => param(p, 'flag').map((f) => f.part!.find((x) => x.name === 'code')!.valueCoding!.code!).sort()

async function perspective(s: Setup, as: CallerName): Promise<Parameters> {
  const res = await t.get(`/fhir/Patient/${s.patientId}/$handelingsperspectief`, { as })
  expect(res.status, await text(res)).toBe(200)
  return (await res.json()) as Parameters
}

// DESIGN section 4, column by column.
const COLUMNS: Record<'regievoerder' | 'escort' | 'casemanager', string[]> = {
  regievoerder: ['contact-medical-service', 'extra-supervision', 'fit-to-travel', 'medical-escort-required', 'medical-postponement'],
  escort: [
    'contact-medical-service',
    'extra-supervision',
    'fit-to-travel',
    'hygiene-measures',
    'medical-escort-required',
    'medication-accompanies',
    'mobility-aid',
    'restraints-medically-discouraged',
  ],
  casemanager: ['contact-medical-service', 'extra-supervision', 'hygiene-measures', 'mobility-aid'],
}

describe('the audience matrix', () => {
  it.each([
    ['regievoerder', 'regievoerder'],
    ['dvoEscort', 'escort'],
    ['kmarEscort', 'escort'],
    ['coaCaseManager', 'casemanager'],
  ] as const)('with consent, a %s sees exactly the %s column of the table', async (caller, column) => {
    const s = await setup()
    const p = await perspective(s, caller)
    expect(codes(p)).toEqual(COLUMNS[column])
    expect(param(p, 'disclosure')[0]?.valueCode).toBe('consent')
  })

  it('a verified caregiver of an organisation involved with the patient sees every code', async () => {
    const s = await setup()
    expect(codes(await perspective(s, 'gzaDoctor'))).toHaveLength(9)
  })

  it('a verified caregiver of an organisation not involved with the patient is refused', async () => {
    const s = await setup()
    const res = await t.get(`/fhir/Patient/${s.patientId}/$handelingsperspectief`, { as: 'escortNurse' })
    expect(res.status, await text(res)).toBe(403)
  })

  it('without consent for action-perspective a non-caregiver sees only safety-critical codes with a recorded legal ground, and the contact line', async () => {
    const s = await setup({ provisions: [{ purpose: ['handover'], orgType: ['medical-escort'] }] })
    const p = await perspective(s, 'dvoEscort')
    expect(codes(p)).toEqual(['extra-supervision'])
    expect(param(p, 'disclosure')[0]?.valueCode).toBe('safety-critical-only')
    const contact = param(p, 'contact')[0]!
    expect(contact.part!.find((x) => x.name === 'phone')!.valueContactPoint!.value).toBe('088-1122112')
  })

  it('values travel with their codes: fit-to-travel conditional, postponement requested', async () => {
    const s = await setup()
    const p = await perspective(s, 'regievoerder')
    const value = (code: string) =>
      param(p, 'flag')
        .find((f) => f.part!.some((x) => x.valueCoding?.code === code))!
        .part!.find((x) => x.name === 'value')?.valueCoding?.code
    expect(value('fit-to-travel')).toBe('conditional')
    expect(value('medical-postponement')).toBe('requested')
  })
})

describe('P4: only with an open task naming the organisation', () => {
  it('a non-caregiver without any task for the patient gets 404', async () => {
    const s = await setup({ task: false })
    const res = await t.get(`/fhir/Patient/${s.patientId}/$handelingsperspectief`, { as: 'regievoerder' })
    expect(res.status, await text(res)).toBe(404)
  })

  it('a task for another organisation gives 404, as does an unknown patient', async () => {
    const unknown = await t.get(`/fhir/Patient/00000000-0000-4000-8000-000000000000/$handelingsperspectief`, { as: 'kmarEscort' })
    expect(unknown.status, await text(unknown)).toBe(404)
    const s2 = await setup({ task: false })
    const mine = await t.post('/fhir/Task', {
      as: 'regievoerder',
      body: taskResource({ vNummer: s2.vNummer, requester: URA.dtv, owner: URA.dvo, start: new Date(t.clock.now().getTime() + DAY).toISOString() }),
    })
    expect(mine.status).toBe(201)
    const res2 = await t.get(`/fhir/Patient/${s2.patientId}/$handelingsperspectief`, { as: 'coaCaseManager' })
    expect(res2.status, await text(res2)).toBe(404)
  })

  it('after the task is cancelled the non-caregiver keeps the flags for the grace period, then gets 404', async () => {
    const s = await setup({ task: false })
    const created = await t.post('/fhir/Task', {
      as: 'regievoerder',
      body: taskResource({ vNummer: s.vNummer, requester: URA.dtv, owner: URA.dvo, start: new Date(t.clock.now().getTime() + DAY).toISOString() }),
    })
    const task = (await created.json()) as { id: string; executionPeriod: { start: string } }
    expect((await t.get(`/fhir/Patient/${s.patientId}/$handelingsperspectief`, { as: 'dvoEscort' })).status).toBe(200)
    const cancel = await t.put(`/fhir/Task/${task.id}`, {
      as: 'regievoerder',
      body: { ...taskResource({ vNummer: s.vNummer, requester: URA.dtv, owner: URA.dvo, start: task.executionPeriod.start, status: 'cancelled' }), id: task.id },
    })
    expect(cancel.status, await text(cancel)).toBe(200)
    const start = t.clock.now()
    const grace = t.deps.settings.taskGraceMs
    try {
      t.clock.set(new Date(start.getTime() + grace - 60_000))
      const within = await t.get(`/fhir/Patient/${s.patientId}/$handelingsperspectief`, { as: 'dvoEscort' })
      expect(within.status, await text(within)).toBe(200)
      t.clock.set(new Date(start.getTime() + grace))
      const res = await t.get(`/fhir/Patient/${s.patientId}/$handelingsperspectief`, { as: 'dvoEscort' })
      expect(res.status, await text(res)).toBe(404)
    } finally {
      t.clock.set(start)
    }
  })

  it('a privacy officer has no handelingsperspectief (404)', async () => {
    const s = await setup()
    const res = await t.get(`/fhir/Patient/${s.patientId}/$handelingsperspectief`, { as: 'privacyOfficer' })
    expect(res.status, await text(res)).toBe(404)
  })

  it('the perspective is found by identifier too', async () => {
    const s = await setup()
    const res = await t.get(`/fhir/Patient/$handelingsperspectief?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${s.vNummer}`)}`, { as: 'regievoerder' })
    expect(res.status, await text(res)).toBe(200)
    expect(param((await res.json()) as Parameters, 'patient')[0]?.valueReference?.reference).toBe(`Patient/${s.patientId}`)
  })

  it('neither caregivers nor non-caregivers get the dossier through a task or the perspective', async () => {
    const s = await setup()
    for (const as of ['regievoerder', 'dvoEscort', 'gzaDoctor'] as const) {
      const body = await text(await t.get(`/fhir/Patient/${s.patientId}/$handelingsperspectief`, { as }))
      expect(body).not.toContain('GEHEIM')
      expect(body).not.toContain('Clozapine')
    }
  })
})

describe('provenance and currency', () => {
  it('the answer names the issuing organisation, the reviewer role and the review time', async () => {
    const s = await setup()
    const p = await perspective(s, 'regievoerder')
    expect(param(p, 'issuer')[0]?.valueReference?.identifier).toEqual({ system: SYSTEM.ura, value: URA.gza })
    expect(param(p, 'issuerType')[0]?.valueCoding?.code).toBe('gza')
    expect(param(p, 'reviewerRole')[0]?.valueCode).toBe('arts')
    expect(param(p, 'reviewedAt')[0]?.valueInstant).toBe(t.clock.now().toISOString())
  })

  async function withDeparture(offsetMs: number): Promise<Parameters> {
    const s = await setup({ task: false })
    const start = new Date(t.clock.now().getTime() + offsetMs).toISOString()
    const res = await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer: s.vNummer, requester: URA.dtv, owner: URA.dvo, start }) })
    expect(res.status, await text(res)).toBe(201)
    return perspective(s, 'regievoerder')
  }

  it('a review exactly 7 days before the planned departure is current', async () => {
    const p = await withDeparture(7 * DAY)
    expect(param(p, 'stale')[0]?.valueBoolean).toBe(false)
  })

  it('a review 7 days and one minute before the planned departure is stale', async () => {
    const p = await withDeparture(7 * DAY + 60_000)
    expect(param(p, 'stale')[0]?.valueBoolean).toBe(true)
    expect(param(p, 'staleReason').map((x) => x.valueCode)).toEqual(['review-before-departure'])
  })

  it('a review older than the maximum age is stale without a departure', async () => {
    const s = await setup()
    t.clock.advance(31 * DAY)
    try {
      const p = await perspective(s, 'regievoerder')
      expect(param(p, 'staleReason').map((x) => x.valueCode)).toContain('max-age')
    } finally {
      t.clock.advance(-31 * DAY)
    }
  })

  it('the perspective is kept as its own record: reading it decrypts no dossier', async () => {
    const s = await setup()
    await t.db.updateTable('patient_key').set({ wrapped_key: 'not-a-key' }).where('patient_id', '=', s.patientId).execute()
    const p = await perspective(s, 'regievoerder')
    expect(codes(p).length).toBeGreaterThan(0)
  })
})

describe('the vocabulary is served', () => {
  it('GET /fhir/CodeSystem/handelingsperspectief answers the CodeSystem with audiences', async () => {
    const res = await t.get('/fhir/CodeSystem/handelingsperspectief')
    expect(res.status, await text(res)).toBe(200)
    const cs = (await res.json()) as { url: string; concept: { code: string }[] }
    expect(cs.url).toBe(SYSTEM.handelingsperspectief)
    expect(cs.concept.map((c) => c.code)).toContain('extra-supervision')
  })
})

export type { ParametersParameter }
