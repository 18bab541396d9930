import { existsSync, readFileSync } from 'node:fs'
import type { Bundle, BundleEntry, Consent, ConsentProvision, Parameters, Resource } from '@medplum/fhirtypes'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { validateFhirResource } from '../src/fhir/validation.js'
import { DEFAULT_SENSITIVE_CATEGORIES } from '../src/consent/sensitive-categories.js'
import { minimiseBundle, WITHHELD_CODE } from '../src/handover/minimise.js'
import { consentResource, handoverBundle, newVNummer, syntheaAsCollection, syntheaFiles, DEFAULT_PROVISIONS } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'

/*
 * Consent as patients give it: a handover, but not of everything. A nested deny on a sensitive
 * category (security label) or a resource type (class) leaves that content out of what the
 * recipients it holds for receive; content nobody may receive is refused at intake unless kept for
 * the patient's own copy.
 */

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ActCode'
const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }
const byOrgType = (value: string) => ({ role: IRCP, reference: { identifier: { system: SYSTEM.organizationType, value } } })
const denyLabels = (labels: string[], actors?: string[]): ConsentProvision => ({
  type: 'deny',
  securityLabel: labels.map((code) => ({ system: V3, code })),
  ...(actors ? { actor: actors.map(byOrgType) } : {}),
})
const denyClasses = (classes: string[]): ConsentProvision => ({
  type: 'deny',
  class: classes.map((code) => ({ system: 'http://hl7.org/fhir/resource-types', code })),
})

/** The default consent, with nested provisions added under the handover permit, or beside it (root). */
function consentWith(vNummer: string, options: { underHandover?: ConsentProvision[]; underRoot?: ConsentProvision[] }): Consent {
  const consent = consentResource({ vNummer })
  const root = consent.provision!
  root.provision![0]!.provision = options.underHandover
  if (options.underRoot) root.provision!.push(...options.underRoot)
  return consent
}

async function text(res: Response) {
  return res.clone().text()
}

async function recordConsent(consent: Consent): Promise<string> {
  const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consent })
  expect(res.status, await text(res)).toBe(201)
  return res.headers.get('x-consent-token')!
}

async function patientIdOf(vNummer: string): Promise<string> {
  const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
  return ((await search.json()) as Bundle).entry![0]!.resource!.id!
}

async function release(patientId: string, as: CallerName, token: string): Promise<Bundle> {
  const res = await t.get(`/fhir/Patient/${patientId}/$handover`, { as, headers: { 'x-consent-token': token } })
  expect(res.status, await text(res)).toBe(200)
  return (await res.json()) as Bundle
}

const label = (resource: Resource, code: string): Resource => ({ ...resource, meta: { ...resource.meta, security: [...(resource.meta?.security ?? []), { system: V3, code }] } })

/**
 * A Synthea patient with sensitive content: one Condition labelled PSY, one recoded as depression
 * (SNOMED 35489007, PSY by code), an HIV test (LOINC 75622-1) and an Observation that cites the
 * labelled Condition by reference with a display naming it.
 */
function sensitiveSynthea(vNummer: string) {
  const bundle = syntheaAsCollection(syntheaFiles()[0]!, vNummer)
  const entries = bundle.entry!
  const conditions = entries.filter((e) => e.resource?.resourceType === 'Condition')
  expect(conditions.length).toBeGreaterThanOrEqual(2)
  const labelled = conditions[0]!
  labelled.resource = label(labelled.resource!, 'PSY')
  const coded = conditions[1]!
  coded.resource = { ...(coded.resource as object), code: { coding: [{ system: 'http://snomed.info/sct', code: '35489007', display: 'Depressive disorder' }], text: 'CANARY-DEPRESSION' } } as Resource
  const patientUrl = entries.find((e) => e.resource?.resourceType === 'Patient')!.fullUrl!
  const hivTest: BundleEntry = {
    fullUrl: 'urn:uuid:0b7d3a64-4a59-4d57-9d8a-6a1d1f0a0001',
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '75622-1', display: 'HIV 1 and 2 tests - Meaningful Use set' }], text: 'CANARY-HIV' },
      subject: { reference: patientUrl },
      valueCodeableConcept: { text: 'negative' },
    } as Resource,
  }
  const citing: BundleEntry = {
    fullUrl: 'urn:uuid:0b7d3a64-4a59-4d57-9d8a-6a1d1f0a0002',
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      subject: { reference: patientUrl },
      valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      derivedFrom: [{ reference: labelled.fullUrl!, display: 'CANARY-PSY-DISPLAY' }],
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Heart rate, seen with CANARY-PSY-NARRATIVE</div>' },
    } as unknown as Resource,
  }
  entries.push(hivTest, citing)
  return { bundle, labelledUrl: labelled.fullUrl!, codedUrl: coded.fullUrl!, hivUrl: hivTest.fullUrl!, citingUrl: citing.fullUrl! }
}

const urls = (b: Bundle) => (b.entry ?? []).map((e) => e.fullUrl)
const tagged = (b: Bundle) => (b.meta?.tag ?? []).some((tag) => tag.code === WITHHELD_CODE)

function expectValidR4(bundle: Bundle) {
  const issues = validateFhirResource(bundle)
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
  expect(errors, JSON.stringify(errors, null, 1)).toEqual([])
}

describe('minimised release under the consent in force', () => {
  it('a PSY exclusion for medical escorts: the escort nurse receives the Synthea dossier without the labelled and the coded condition, references masked, narratives gone, the notice present, still valid R4', async () => {
    const vNummer = newVNummer()
    const token = await recordConsent(consentWith(vNummer, { underHandover: [denyLabels(['PSY'], ['medical-escort'])] }))
    const { bundle, labelledUrl, codedUrl, hivUrl, citingUrl } = sensitiveSynthea(vNummer)
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(upload.status, await text(upload)).toBe(201)
    const patientId = await patientIdOf(vNummer)

    const released = await release(patientId, 'escortNurse', token)
    expect(urls(released)).not.toContain(labelledUrl)
    expect(urls(released)).not.toContain(codedUrl)
    expect(urls(released)).toContain(hivUrl)
    expect(urls(released)).toContain(citingUrl)
    expect(released.entry!.length).toBe(bundle.entry!.length - 2)
    const json = JSON.stringify(released)
    for (const canary of ['CANARY-DEPRESSION', 'CANARY-PSY-DISPLAY', 'CANARY-PSY-NARRATIVE', labelledUrl, codedUrl]) expect(json).not.toContain(canary)
    const citing = released.entry!.find((e) => e.fullUrl === citingUrl)!.resource as unknown as { derivedFrom: unknown[] }
    expect(citing.derivedFrom).toEqual([{ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' }] }])
    expect(tagged(released)).toBe(true)
    expect(released.signature).toBeUndefined()
    expectValidR4(released)

    // The DJI medical service is not named by that deny: it receives the dossier as stored.
    const toDji = await release(patientId, 'djiNurse', token)
    expect(toDji.entry!.length).toBe(bundle.entry!.length)
    expect(tagged(toDji)).toBe(false)
    expect(JSON.stringify(toDji)).toContain('CANARY-DEPRESSION')

    // The audit entry says that the release was minimised and how many entries, never what.
    const audit = await t.db.selectFrom('audit_event').selectAll().where('patient_id', '=', patientId).where('event_type', '=', 'dossier.read').orderBy('id', 'asc').execute()
    expect(audit[0]!.detail).toMatchObject({ minimised: true, withheldEntries: 2 })
    expect(JSON.stringify(audit)).not.toContain('PSY')
  })

  it('a later consent without the exclusion changes the next release; the stored bundle was never changed', async () => {
    const vNummer = newVNummer()
    const firstConsent = consentWith(vNummer, { underRoot: [denyLabels(['HIV'])] })
    const recorded = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: firstConsent })
    expect(recorded.status, await text(recorded)).toBe(201)
    const first = recorded.headers.get('x-consent-token')!
    const firstId = ((await recorded.json()) as Consent).id!
    const { bundle, hivUrl } = sensitiveSynthea(vNummer)
    // HIV is excluded for every recipient: stored only for the patient's own copy.
    const upload = await t.post('/fhir/Bundle?own-copy=true', { as: 'gzaDoctor', body: bundle })
    expect(upload.status, await text(upload)).toBe(201)
    const patientId = await patientIdOf(vNummer)
    expect(urls(await release(patientId, 'escortNurse', first))).not.toContain(hivUrl)

    // Every consent in force holds: the patient changes their mind by withdrawing the first and giving a new one.
    const withdraw = await t.put(`/fhir/Consent/${firstId}`, { as: 'gzaDoctor', body: { ...firstConsent, id: firstId, status: 'inactive' } })
    expect(withdraw.status, await text(withdraw)).toBe(200)
    t.clock.advance(60_000)
    const second = await recordConsent(consentResource({ vNummer }))
    const after = await release(patientId, 'escortNurse', second)
    expect(urls(after)).toContain(hivUrl)
    expect(after.entry!.length).toBe(bundle.entry!.length)
    expect(tagged(after)).toBe(false)
  })

  it('a class exclusion leaves out every resource of that type, and an emergency read keeps the exclusion', async () => {
    const vNummer = newVNummer()
    // Under the one handover permit, the deny holds for all its recipients: the upload confirms the own copy.
    const token = await recordConsent(consentWith(vNummer, { underHandover: [denyClasses(['Immunization', 'Observation'])] }))
    const { bundle } = sensitiveSynthea(vNummer)
    expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })).status).toBe(422)
    expect((await t.post('/fhir/Bundle?own-copy=true', { as: 'gzaDoctor', body: bundle })).status).toBe(201)
    const patientId = await patientIdOf(vNummer)
    const released = await release(patientId, 'escortNurse', token)
    const types = new Set(released.entry!.map((e) => e.resource!.resourceType))
    expect(types.has('Observation') || types.has('Immunization')).toBe(false)
    expect(types.has('Patient')).toBe(true)
    expectValidR4(released)

    const emergency = await t.get(`/fhir/Patient/${patientId}/$handover`, {
      as: 'djiNurse',
      headers: { 'x-emergency-reason': 'Patient unresponsive at intake, medication history needed' },
    })
    expect(emergency.status, await text(emergency)).toBe(200)
    const broken = (await emergency.json()) as Bundle
    expect(broken.entry!.some((e) => e.resource!.resourceType === 'Observation')).toBe(false)
    expect(tagged(broken)).toBe(true)
  })

  it('the handelingsperspectief is the same whatever the consent excludes', async () => {
    const perspectiveOf = async (provisions: { underHandover?: ConsentProvision[]; underRoot?: ConsentProvision[] }) => {
      const vNummer = newVNummer()
      await recordConsent(consentWith(vNummer, provisions))
      const upload = await t.post('/fhir/Bundle?own-copy=true', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
      expect(upload.status, await text(upload)).toBe(201)
      const patientId = await patientIdOf(vNummer)
      const task = await t.post('/fhir/Task', {
        as: 'regievoerder',
        body: {
          resourceType: 'Task',
          status: 'requested',
          intent: 'order',
          code: { coding: [{ system: SYSTEM.taskCode, code: 'departure' }] },
          for: { identifier: { system: SYSTEM.vNummer, value: vNummer } },
          requester: { identifier: { system: SYSTEM.ura, value: URA.dtv } },
          owner: { identifier: { system: SYSTEM.ura, value: URA.dvo } },
          executionPeriod: { start: '2026-11-27T09:00:00Z' },
        },
      })
      expect(task.status, await text(task)).toBe(201)
      const res = await t.get(`/fhir/Patient/${patientId}/$handelingsperspectief`, { as: 'regievoerder' })
      expect(res.status, await text(res)).toBe(200)
      const p = (await res.json()) as Parameters
      return JSON.stringify(p.parameter?.filter((x) => x.name === 'flag'))
    }
    const plain = await perspectiveOf({})
    const excluding = await perspectiveOf({ underRoot: [denyLabels(['PSY', 'HIV', 'ETH', 'SEX', 'SDV'])], underHandover: [denyClasses(['Flag', 'Condition', 'MedicationStatement'])] })
    expect(plain).not.toBe('undefined')
    expect(excluding).toBe(plain)
  })
})

describe('minimisation at intake', () => {
  it('content the consent excludes for every recipient is refused with 422 naming the entries, nothing is stored, and the refusal is audited', async () => {
    const vNummer = newVNummer()
    await recordConsent(consentWith(vNummer, { underRoot: [denyLabels(['PSY'])] }))
    const { bundle, labelledUrl, codedUrl } = sensitiveSynthea(vNummer)
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    const body = await res.text()
    expect(res.status, body).toBe(422)
    const expected = [labelledUrl, codedUrl].map((url) => `Bundle.entry[${bundle.entry!.findIndex((e) => e.fullUrl === url)}]`)
    const outcome = JSON.parse(body) as { issue: { expression: string[]; diagnostics: string }[] }
    expect(outcome.issue.map((i) => i.expression[0]).sort()).toEqual(expected.sort())
    expect(outcome.issue[0]!.diagnostics).toContain('own-copy=true')
    expect(body).not.toContain('CANARY')
    const patientId = await patientIdOf(vNummer)
    expect(await t.db.selectFrom('bundle_version').select('id').where('patient_id', '=', patientId).execute()).toEqual([])
    const audit = await t.db.selectFrom('audit_event').selectAll().where('patient_id', '=', patientId).where('event_type', '=', 'dossier.upload').execute()
    expect(audit).toHaveLength(1)
    expect(audit[0]).toMatchObject({ outcome: 'deny', reason: 'deny-content-excluded', detail: { excludedEntries: 2, ownCopy: false } })
  })

  it('content excluded for only some recipients is accepted without confirmation; with confirmation, excluded content is stored and the upload audited as such', async () => {
    const someOnly = newVNummer()
    await recordConsent(consentWith(someOnly, { underHandover: [denyLabels(['PSY'], ['medical-escort'])] }))
    expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: sensitiveSynthea(someOnly).bundle })).status).toBe(201)

    const everyone = newVNummer()
    await recordConsent(consentWith(everyone, { underRoot: [denyLabels(['PSY'])] }))
    const confirmed = await t.post('/fhir/Bundle?own-copy=true', { as: 'gzaDoctor', body: sensitiveSynthea(everyone).bundle })
    expect(confirmed.status, await text(confirmed)).toBe(201)
    const patientId = await patientIdOf(everyone)
    const audit = await t.db.selectFrom('audit_event').selectAll().where('patient_id', '=', patientId).where('event_type', '=', 'dossier.upload').execute()
    expect(audit[0]).toMatchObject({ outcome: 'permit', detail: { excludedEntries: 2, ownCopy: true } })
    const bad = await t.post('/fhir/Bundle?own-copy=yes', { as: 'gzaDoctor', body: sensitiveSynthea(everyone).bundle })
    expect(bad.status, await text(bad)).toBe(400)
  })
})

const NICTIZ = new URL('../../shared/fhir-examples/nictiz/', import.meta.url)
describe.skipIf(!existsSync(NICTIZ))('the Dutch zib examples (where ../shared is present)', () => {
  it('a zib pregnancy Condition labelled SEX and a zib problem are released to the escort nurse without the pregnancy', async () => {
    const read = (name: string) => JSON.parse(readFileSync(new URL(name, NICTIZ), 'utf8')) as Resource
    const vNummer = newVNummer()
    const token = await recordConsent(consentWith(vNummer, { underHandover: [denyLabels(['SEX'], ['medical-escort'])] }))
    const bundle = handoverBundle(vNummer)
    const patientRef = bundle.entry![0]!.fullUrl!
    const asEntry = (r: Resource, n: number): BundleEntry => {
      const { id: _id, ...rest } = r as Resource & { subject?: unknown }
      return { fullUrl: `urn:uuid:5a0c7c4e-1f7e-4f7a-8d59-00000000000${n}`, resource: { ...rest, subject: { reference: patientRef } } as Resource }
    }
    const pregnancy = asEntry(label(read('Condition-nl-core-Pregnancy-01.json'), 'SEX'), 1)
    const problem = asEntry(read('Condition-nl-core-Problem-01.json'), 2)
    bundle.entry!.push(pregnancy, problem)
    const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(upload.status, await text(upload)).toBe(201)
    const released = await release(await patientIdOf(vNummer), 'escortNurse', token)
    expect(urls(released)).not.toContain(pregnancy.fullUrl)
    expect(urls(released)).toContain(problem.fullUrl)
    expectValidR4(released)
  })
})

describe('property: what the consent excludes never appears in the released bundle', () => {
  const categories = DEFAULT_SENSITIVE_CATEGORIES
  // A code of each category, by way of the classification's own data (and a label for each).
  const CODED: Record<string, { system: string; code: string }> = {
    PSY: { system: 'http://hl7.org/fhir/sid/icd-10', code: 'F32.1' },
    HIV: { system: 'http://loinc.org', code: '7918-6' },
    ETH: { system: 'http://snomed.info/sct', code: '7200002' },
    SEX: { system: 'http://www.whocc.no/atc', code: 'G03AA07' },
    SDV: { system: 'http://hl7.org/fhir/sid/icd-10', code: 'T74.1' },
  }
  const TYPES = ['Condition', 'Observation', 'MedicationStatement', 'AllergyIntolerance', 'Flag'] as const
  const LABELS = Object.keys(CODED)

  const spec = fc.record({
    type: fc.constantFrom(...TYPES),
    category: fc.option(fc.constantFrom(...LABELS), { nil: undefined }),
    how: fc.constantFrom('label', 'code', 'contained'),
    refersTo: fc.option(fc.nat(11), { nil: undefined }),
  })

  it('for generated bundles and exclusions: no canary, id or reference of an excluded resource remains, inside contained resources, narratives and references included; everything else remains', () => {
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 12 }),
        fc.subarray(LABELS),
        fc.subarray([...TYPES]),
        (specs, labels, classes) => {
          const entries: BundleEntry[] = [{ fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000000', resource: { resourceType: 'Patient', id: 'p' } }]
          specs.forEach((s, i) => {
            const canary = `CANARY${i}X`
            const coding = s.category && s.how !== 'label' ? [CODED[s.category]!] : [{ system: 'http://loinc.org', code: '8867-4' }]
            const resource: Record<string, unknown> = {
              resourceType: s.type,
              id: `r${i}`,
              text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${canary} narrative</div>` },
              code: { coding: s.how === 'contained' ? [{ system: 'http://loinc.org', code: '8867-4' }] : coding, text: `${canary} code text` },
              note: [{ text: `${canary} note` }],
              ...(s.category && s.how === 'label' ? { meta: { security: [{ system: V3, code: s.category }] } } : {}),
              ...(s.category && s.how === 'contained'
                ? { contained: [{ resourceType: 'Condition', id: 'c', code: { coding, text: `${canary} contained` } }], evidence: [{ detail: [{ reference: '#c' }] }] }
                : {}),
            }
            if (s.refersTo !== undefined && s.refersTo < specs.length && s.refersTo !== i) {
              resource.basedOn = [{ reference: `${specs[s.refersTo]!.type}/r${s.refersTo}`, display: `CANARY${s.refersTo}X display` }]
            }
            entries.push({ fullUrl: `https://example.org/fhir/${s.type}/r${i}`, resource: resource as unknown as Resource })
          })
          const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', entry: entries }
          const released = minimiseBundle(bundle, { labels, classes }, categories)
          const json = JSON.stringify(released)
          specs.forEach((s, i) => {
            // A contained Condition is a Condition too: excluding the class excludes its container.
            const containsCondition = s.category !== undefined && s.how === 'contained'
            const excluded =
              classes.includes(s.type) || (containsCondition && classes.includes('Condition')) || (s.category !== undefined && labels.includes(s.category))
            if (excluded) {
              expect(json).not.toContain(`CANARY${i}X`)
              expect(json).not.toMatch(new RegExp(`/r${i}(?![0-9])`))
            } else {
              expect(released.entry!.some((e) => e.resource?.id === `r${i}`)).toBe(true)
            }
          })
          expect(released.entry![0]!.resource!.resourceType).toBe('Patient')
          expect(tagged(released)).toBe(true)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('the shipped classification finds each category by its label and by a code of its own', () => {
    for (const [category, coding] of Object.entries(CODED)) {
      expect([...categories.classify({ resourceType: 'Condition', code: { coding: [coding] } })]).toEqual([category])
      expect([...categories.classify({ resourceType: 'Condition', meta: { security: [{ system: V3, code: category }] } })]).toEqual([category])
    }
    expect([...categories.classify({ resourceType: 'Condition', code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'F10.2' }] } })]).toEqual(['ETH'])
    expect([...categories.classify({ resourceType: 'Condition', code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'J45' }] } })]).toEqual([])
    expect(categories.labels).toEqual(['PSY', 'HIV', 'ETH', 'SEX', 'SDV'])
    expect(DEFAULT_PROVISIONS.length).toBe(2)
  })
})

describe('ways around the exclusions that are closed', () => {
  const psyCondition = (extra: Record<string, unknown> = {}) => ({
    resourceType: 'Condition',
    subject: { reference: 'urn:uuid:8f1b3c1e-6f0a-4c7e-9d51-1f5f6c0e0001' },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '35489007', display: 'Depressive disorder' }], text: 'CANARY-NESTED' },
    ...extra,
  })

  it('after the consent is withdrawn, or refused, an emergency read still leaves out what the consent had excluded', async () => {
    for (const how of ['withdrawn', 'refused'] as const) {
      const vNummer = newVNummer()
      const consent = consentWith(vNummer, { underHandover: [denyLabels(['PSY'], ['medical-escort'])] })
      const recorded = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consent })
      expect(recorded.status, await text(recorded)).toBe(201)
      const id = ((await recorded.json()) as Consent).id!
      const bundle = handoverBundle(vNummer, [psyCondition() as unknown as Resource])
      expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })).status).toBe(201)
      t.clock.advance(60_000)
      const after =
        how === 'withdrawn'
          ? await t.put(`/fhir/Consent/${id}`, { as: 'gzaDoctor', body: { ...consent, id, status: 'inactive' } })
          : await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer, status: 'rejected' }) })
      expect(after.status, await text(after)).toBeLessThan(300)
      t.clock.advance(60_000)
      const res = await t.get(`/fhir/Patient/${await patientIdOf(vNummer)}/$handover`, {
        as: 'escortNurse',
        headers: { 'x-emergency-reason': 'Patient collapsed during transport, history needed' },
      })
      const body = await res.text()
      expect(res.status, body).toBe(200)
      expect(body, how).not.toContain('CANARY-NESTED')
      expect(tagged(JSON.parse(body) as Bundle)).toBe(true)
    }
  })

  it('a resource nested in a Bundle or Parameters entry is excluded by its class, at release and at intake', async () => {
    const vNummer = newVNummer()
    const token = await recordConsent(consentWith(vNummer, { underHandover: [denyClasses(['Condition'])] }))
    const nested = [
      { resourceType: 'Bundle', type: 'collection', entry: [{ resource: psyCondition({ code: { text: 'CANARY-NESTED' } }) }] },
      { resourceType: 'Parameters', parameter: [{ name: 'x', resource: psyCondition({ code: { text: 'CANARY-NESTED' } }) }] },
    ] as unknown as Resource[]
    const refused = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer, nested) })
    expect(refused.status, await text(refused)).toBe(422)
    expect((await t.post('/fhir/Bundle?own-copy=true', { as: 'gzaDoctor', body: handoverBundle(vNummer, nested) })).status).toBe(201)
    const released = await release(await patientIdOf(vNummer), 'escortNurse', token)
    expect(JSON.stringify(released)).not.toContain('CANARY-NESTED')
  })

  it('a class that is not a concrete FHIR R4 resource type is refused, so a consent never holds an exclusion that excludes nothing', async () => {
    for (const code of ['Conditon', 'DomainResource', 'Resource', 'ConditionDefinition', 'Patient']) {
      const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentWith(newVNummer(), { underHandover: [denyClasses([code])] }) })
      expect(res.status, `${code}: ${await text(res)}`).toBe(422)
    }
  })

  it('a deny ending in the current month ("2026-11") holds for the whole month; leap seconds are read, not a 500', async () => {
    const vNummer = newVNummer()
    const consent = consentWith(vNummer, { underHandover: [{ ...denyLabels(['PSY'], ['medical-escort']), period: { end: '2026-11' } }] })
    consent.dateTime = '2026-11-23T23:59:60Z'
    const token = await recordConsent(consent)
    expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer, [psyCondition() as unknown as Resource]) })).status).toBe(201)
    expect(JSON.stringify(await release(await patientIdOf(vNummer), 'escortNurse', token))).not.toContain('CANARY-NESTED')
    const bad = consentWith(newVNummer(), { underHandover: [{ ...denyLabels(['PSY']), period: { end: '2026-02-30' } }] })
    const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: bad })
    expect(res.status, await text(res)).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
  })

  it('references by identifier, display, absolute URL, upper-case urn, condition, link and canonical to a left-out entry are masked or dropped; a labelled bundle releases only the Patient', () => {
    const categories = DEFAULT_SENSITIVE_CATEGORIES
    const left = { resourceType: 'Condition', identifier: [{ system: 'urn:oid:1.2.3', value: 'dep-1' }], code: { coding: [{ system: 'http://snomed.info/sct', code: '35489007' }] } }
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      link: [{ relation: 'self', url: 'http://gza.example/fhir/Condition/dep1' }],
      entry: [
        { fullUrl: 'urn:uuid:aaaaaaaa-0000-4000-8000-0000000000a1', resource: { resourceType: 'Patient', id: 'p' } },
        { fullUrl: 'http://gza.example/fhir/Condition/dep1', resource: left },
        {
          fullUrl: 'urn:uuid:aaaaaaaa-0000-4000-8000-0000000000a2',
          link: [{ relation: 'related', url: 'http://gza.example/fhir/Condition/dep1' }],
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'kept' },
            focus: [
              { identifier: { system: 'urn:oid:1.2.3', value: 'dep-1' }, display: 'CANARY-DISPLAY-1' },
              { display: 'CANARY-DISPLAY-2' },
              { reference: 'Condition/dep1' },
              { reference: 'Condition/dep1/_history/2' },
              { reference: 'Condition?identifier=urn:oid:1.2.3|dep-1' },
            ],
            derivedFrom: [{ reference: 'URN:UUID:AAAAAAAA-0000-4000-8000-0000000000A9' }],
          },
        },
        {
          // Pointing at a left-out entry other than by Reference: it goes too.
          fullUrl: 'urn:uuid:aaaaaaaa-0000-4000-8000-0000000000a3',
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'CANARY-CANONICAL' }, extension: [{ url: 'http://example.org/see', valueCanonical: 'http://gza.example/fhir/Condition/dep1' }] },
        },
      ],
    } as unknown as Bundle
    // The upper-case urn points at an entry that is left out too.
    bundle.entry!.push({ fullUrl: 'urn:uuid:aaaaaaaa-0000-4000-8000-0000000000a9', resource: { ...left, id: 'second' } as unknown as Resource })
    const released = minimiseBundle(bundle, { labels: ['PSY'], classes: [] }, categories)
    const json = JSON.stringify(released)
    for (const gone of ['dep1', 'dep-1', 'CANARY-DISPLAY', '0000000000a9', '0000000000A9', '"link"', 'valueCanonical', 'CANARY-CANONICAL']) expect(json, gone).not.toContain(gone)
    const kept = released.entry!.find((e) => e.resource?.resourceType === 'Observation')!.resource as unknown as { focus: unknown[] }
    expect(kept.focus).toHaveLength(5)
    expectValidR4(released)

    const labelled = minimiseBundle(
      { ...bundle, meta: { security: [{ system: 'urn:oid:2.16.840.1.113883.5.4', code: 'PSY' }] } },
      { labels: ['PSY'], classes: [] },
      categories,
    )
    expect(labelled.entry!.map((e) => e.resource!.resourceType)).toEqual(['Patient'])
    expect(JSON.stringify(labelled.meta)).not.toContain('PSY')
  })

  it('the classification knows each code system by its other official identifiers, and codes with spaces, invisible characters, terms or no system', () => {
    const c = DEFAULT_SENSITIVE_CATEGORIES
    const of = (coding: Record<string, string>) => [...c.classify({ resourceType: 'Condition', code: { coding: [coding] } })]
    expect(of({ system: 'urn:oid:2.16.840.1.113883.6.96', code: '35489007' })).toEqual(['PSY'])
    expect(of({ system: 'https://SNOMED.info/sct/', code: '35489007 |Depressive disorder|' })).toEqual(['PSY'])
    expect(of({ system: 'http://hl7.org/fhir/sid/icd-10-nl', code: 'F 32.1' })).toEqual(['PSY'])
    expect(of({ system: 'http://hl7.org/fhir/sid/icd-10', code: 'F32\u200b.1' })).toEqual(['PSY'])
    expect(of({ system: 'http://hl7.org/fhir/sid/icpc-1-nl', code: 'P76' })).toEqual(['PSY'])
    expect(of({ system: 'http://hl7.org/fhir/sid/icpc-1', code: 'B90' })).toEqual(['HIV'])
    expect(of({ system: 'http://www.whocc.no/atc/', code: 'n05ax08' })).toEqual(['PSY'])
    expect(of({ code: '35489007' })).toEqual(['PSY'])
    expect([...c.classify({ meta: { security: [{ system: 'http://hl7.org/fhir/v3/ActCode', code: 'HIV' }] } })]).toEqual(['HIV'])
    expect(of({ system: 'http://snomed.info/sct', code: '38341003' })).toEqual([])
  })
})

describe('ways around the exclusions that are closed, second round', () => {
  const categories = DEFAULT_SENSITIVE_CATEGORIES
  const PSY = { labels: ['PSY'], classes: [] as string[] }
  const dep = { system: 'http://snomed.info/sct', code: '35489007' }
  const base = (entries: BundleEntry[], extra: Partial<Bundle> = {}): Bundle =>
    ({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', id: 'p' } }, ...entries], ...extra }) as Bundle
  const left = (extra: Record<string, unknown> = {}): BundleEntry => ({
    fullUrl: 'http://gza.example/fhir/Condition/x1',
    resource: { resourceType: 'Condition', id: 'x1', identifier: [{ system: 'http://example.org/cond', value: 'c-123' }], subject: { reference: 'Patient/p' }, code: { coding: [dep] }, ...extra } as unknown as Resource,
  })

  it('the Patient is never left out, but what it contains that is excluded is, in a labelled bundle and an unlabelled one', () => {
    const patient = {
      resourceType: 'Patient',
      id: 'p',
      contained: [{ resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p' }, code: { coding: [dep], text: 'CANARY-CONTAINED' } }],
      extension: [{ url: 'http://example.org/problem', valueReference: { reference: '#c1' } }],
    }
    for (const labelled of [false, true]) {
      const bundle = { resourceType: 'Bundle', type: 'collection', ...(labelled ? { meta: { security: [{ system: V3, code: 'PSY' }] } } : {}), entry: [{ fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000001', resource: patient }] } as unknown as Bundle
      const released = minimiseBundle(bundle, PSY, categories)
      expect(released.entry?.map((e) => e.resource!.resourceType)).toEqual(['Patient'])
      expect(JSON.stringify(released)).not.toContain('CANARY-CONTAINED')
      expectValidR4(released)
    }
  })

  it('references by identifier alone, by value alone, in arrays of URLs, with a slash, fragment or _history after them, or with _display, are masked or dropped', () => {
    const kept: BundleEntry = {
      fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000002',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'kept' },
        focus: [
          { identifier: { system: 'http://example.org/cond', value: 'c-123' } },
          { identifier: { value: 'c-123' }, display: 'x' },
          { reference: 'Condition/x1/' },
          { reference: 'Condition/x1#a' },
          { reference: 'http://gza.example/fhir/Condition/x1/_history' },
          { display: 'CANARY-DISPLAY', _display: { id: 'd' } },
        ],
      } as unknown as Resource,
    }
    const plan: BundleEntry = {
      fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000003',
      resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/p' }, instantiatesUri: ['Condition/x1', 'http://example.org/kept'] } as unknown as Resource,
    }
    const profiled: BundleEntry = {
      fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000007',
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'CANARY-PROFILED' }, meta: { profile: ['http://gza.example/fhir/Condition/x1'] } } as unknown as Resource,
    }
    const released = minimiseBundle(base([left(), kept, plan, profiled]), PSY, categories)
    const json = JSON.stringify(released)
    for (const gone of ['x1', 'c-123', 'CANARY-DISPLAY', 'CANARY-PROFILED', 'instantiatesUri']) expect(json, gone).not.toContain(gone)
    // The references were masked in the Observation that stays; the entries that pointed by URL went whole.
    expect(released.entry!.map((e) => e.resource!.resourceType)).toEqual(['Patient', 'Observation'])
    expectValidR4(released)
  })

  it('what dropping empties stays valid: an emptied extension goes, an emptied element is masked, a modifier extension pointing at a left-out entry takes its resource with it, a contained resource stays referenced', () => {
    const extended: BundleEntry = {
      fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000004',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'kept' },
        contained: [{ resourceType: 'Practitioner', id: 'pr' }, { resourceType: 'Practitioner', id: 'orphan' }],
        // The only reference to #orphan sits inside a reference that is masked whole.
        focus: [{ reference: 'Condition/x1', extension: [{ url: 'http://example.org/by', valueReference: { reference: '#orphan' } }] }],
        performer: [{ reference: '#pr', identifier: { system: 'http://example.org/cond', value: 'c-123' } }],
      } as unknown as Resource,
    }
    const document: BundleEntry = {
      fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000005',
      resource: {
        resourceType: 'DocumentReference',
        status: 'current',
        content: [{ attachment: { url: 'http://gza.example/fhir/Condition/x1' } }],
      } as unknown as Resource,
    }
    const modified: BundleEntry = {
      fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000006',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'CANARY-MODIFIED' },
        modifierExtension: [{ url: 'http://example.org/superseded-by', valueUri: 'urn:uuid:bbbbbbbb-0000-4000-8000-0000000000AA' }],
      } as unknown as Resource,
    }
    const urlPointing: BundleEntry = {
      fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000008',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        _status: { extension: [{ url: 'http://example.org/see', valueUri: 'http://gza.example/fhir/Condition/x1' }] },
        code: { text: 'CANARY-URL' },
      } as unknown as Resource,
    }
    const alsoLeft: BundleEntry = { fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-0000000000aa', resource: { ...(left().resource as object), id: 'x2' } as unknown as Resource }
    const released = minimiseBundle(base([left(), alsoLeft, extended, document, modified, urlPointing]), PSY, categories)
    const json = JSON.stringify(released)
    // A modifier extension, an attachment's content, a URL pointing at a left-out entry: the entry goes.
    for (const gone of ['CANARY-MODIFIED', 'CANARY-URL', 'DocumentReference', 'c-123', 'orphan']) expect(json, gone).not.toContain(gone)
    expect(json).toContain('"#pr"')
    expectValidR4(released)
  })

  it('a document keeps no section titles, gives an emptied section a neutral text, and becomes a collection when its Composition is left out; tags go', () => {
    const composition = (code?: unknown): BundleEntry => ({
      fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000010',
      resource: {
        resourceType: 'Composition',
        status: 'final',
        type: { coding: [{ system: 'http://loinc.org', code: '18761-7' }] },
        subject: { reference: 'Patient/p' },
        date: '2026-11-24',
        author: [{ display: 'GZA' }],
        title: 'Overdracht',
        section: [
          { title: 'CANARY-TITLE Psychiatrische voorgeschiedenis', ...(code ? { code } : {}), entry: [{ reference: 'http://gza.example/fhir/Condition/x1' }] },
          { title: 'CANARY-TITLE tekst', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">CANARY-TEXT</div>' } },
        ],
      } as unknown as Resource,
    })
    const doc = (c: BundleEntry) =>
      ({
        resourceType: 'Bundle',
        type: 'document',
        identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:bbbbbbbb-0000-4000-8000-0000000000ff' },
        timestamp: '2026-11-24T09:00:00Z',
        meta: { tag: [{ system: 'http://example.org/workflow', code: 'sent', display: 'CANARY-TAG' }] },
        entry: [c, { fullUrl: 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', id: 'p' } }, left()],
      }) as unknown as Bundle
    const released = minimiseBundle(doc(composition()), PSY, categories)
    const json = JSON.stringify(released)
    for (const gone of ['CANARY-TITLE', 'CANARY-TEXT', 'CANARY-TAG', 'x1']) expect(json, gone).not.toContain(gone)
    expect(released.type).toBe('document')
    expectValidR4(released)
    const noComposition = minimiseBundle(doc(composition({ coding: [{ system: 'http://snomed.info/sct', code: '74732009' }] })), PSY, categories)
    expect(noComposition.type).toBe('collection')
    expectValidR4(noComposition)
    // A bundle tagged with a code of the category is the category's content: only the Patient goes out.
    const tagged = doc(composition())
    tagged.meta = { tag: [{ system: 'http://snomed.info/sct', code: '35489007' }] }
    expect(minimiseBundle(tagged, PSY, categories).entry!.map((e) => e.resource!.resourceType)).toEqual(['Patient'])
  })

  it('the classification reads codes with any format character, fullwidth letters or SNOMED expressions, national ICD-10 and SNOMED edition URIs, and the sub-labels of a category', () => {
    const of = (coding: Record<string, string>) => [...categories.classify({ resourceType: 'Condition', code: { coding: [coding] } })]
    expect(of({ system: 'http://snomed.info/sct', code: '\u200e35489007' })).toEqual(['PSY'])
    expect(of({ system: 'http://hl7.org/fhir/sid/icd-10', code: 'F\u00ad32.1' })).toEqual(['PSY'])
    expect(of({ system: 'http://hl7.org/fhir/sid/icd-10', code: '\uff2632.1' })).toEqual(['PSY'])
    expect(of({ system: 'http://snomed.info/sct', code: '243796009:246090004=35489007' })).toEqual(['PSY'])
    expect(of({ system: 'http://fhir.de/CodeSystem/bfarm/icd-10-gm', code: 'F32.1' })).toEqual(['PSY'])
    expect(of({ system: 'http://snomed.info/sct/11000146104', code: '35489007' })).toEqual(['PSY'])
    expect([...categories.classify({ meta: { security: [{ system: V3, code: 'OPIOIDUD' }] } })]).toEqual(['ETH'])
  })

  it('an emergency reader the consent does not name gets what the patient excluded for anyone withheld, own-copy content included', async () => {
    const vNummer = newVNummer()
    await recordConsent(consentWith(vNummer, { underHandover: [denyLabels(['PSY'], ['medical-escort'])] }))
    const condition = { resourceType: 'Condition', subject: { reference: 'urn:uuid:8f1b3c1e-6f0a-4c7e-9d51-1f5f6c0e0001' }, code: { coding: [dep], text: 'CANARY-EMERGENCY' } }
    expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer, [condition as unknown as Resource]) })).status).toBe(201)
    const res = await t.get(`/fhir/Patient/${await patientIdOf(vNummer)}/$handover`, {
      as: 'otherGzaDoctor',
      headers: { 'x-emergency-reason': 'Patient collapsed during transport, needs history' },
    })
    const body = await res.text()
    expect(res.status, body).toBe(200)
    expect(body).not.toContain('CANARY-EMERGENCY')
  })

  it('a consent with an unknown modifier extension, or with more provisions than a form holds, is refused', async () => {
    const modified = consentWith(newVNummer(), {})
    modified.provision!.provision![0]!.modifierExtension = [{ url: 'http://example.org/only-on-sundays', valueBoolean: true }]
    expect((await t.post('/fhir/Consent', { as: 'gzaDoctor', body: modified })).status).toBe(422)
    const many = consentWith(newVNummer(), { underHandover: Array.from({ length: 100 }, () => denyLabels(['PSY'])) })
    const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: many })
    expect(res.status, await text(res)).toBe(422)
    expect(await text(res)).toContain('at most 64 provisions')
  })
})

describe('ways around the exclusions that are closed, third round', () => {
  const categories = DEFAULT_SENSITIVE_CATEGORIES
  const PSY = { labels: ['PSY'], classes: [] as string[] }
  const dep = { system: 'http://snomed.info/sct', code: '35489007', display: 'CANARY-CODE' }

  it('the Patient is released from an allow-list, entries as fullUrl and resource only, the bundle from an allow-list', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:cccccccc-0000-4000-8000-0000000000ff', type: { text: 'CANARY-IDTYPE' }, assigner: { display: 'CANARY-ASSIGNER' } },
      meta: { source: 'CANARY-SOURCE', profile: ['http://example.org/CANARY-PROFILE'], extension: [{ url: 'http://example.org/x', valueString: 'CANARY-METAEXT' }] },
      entry: [
        {
          fullUrl: 'urn:uuid:cccccccc-0000-4000-8000-000000000001',
          extension: [{ url: 'http://example.org/entry', valueCodeableConcept: { coding: [dep] } }],
          resource: {
            resourceType: 'Patient',
            id: 'p',
            meta: { security: [{ system: V3, code: 'PSY' }], tag: [dep] },
            extension: [{ url: 'http://example.org/main-diagnosis', valueCodeableConcept: { coding: [dep] } }],
            identifier: [{ system: SYSTEM.vNummer, value: 'V1234567890' }],
            name: [{ family: 'Voorbeeld', given: ['Amal'] }],
            birthDate: '1990-01-01',
          },
        },
        {
          fullUrl: 'urn:uuid:cccccccc-0000-4000-8000-000000000002',
          modifierExtension: [{ url: 'http://example.org/entry-modifier', valueBoolean: true }],
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'CANARY-ENTRYMOD' } },
        },
      ],
    } as unknown as Bundle
    const released = minimiseBundle(bundle, PSY, categories)
    const json = JSON.stringify(released)
    for (const gone of ['CANARY', 'PSY', '35489007', 'main-diagnosis']) expect(json, gone).not.toContain(gone)
    expect(json).toContain('Voorbeeld')
    expect(json).toContain('V1234567890')
    expectValidR4(released)
  })

  it('content the service cannot look into goes when anything is excluded: a Binary, an attachment with data or a url, FHIR JSON in base64 included', () => {
    const inside = Buffer.from(JSON.stringify({ resourceType: 'Condition', code: { coding: [dep] } })).toString('base64')
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:cccccccc-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', id: 'p' } },
        { fullUrl: 'urn:uuid:cccccccc-0000-4000-8000-000000000003', resource: { resourceType: 'Binary', contentType: 'application/fhir+json', data: inside } },
        {
          fullUrl: 'urn:uuid:cccccccc-0000-4000-8000-000000000004',
          resource: { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'application/pdf', data: inside } }] },
        },
      ],
    } as unknown as Bundle
    const released = minimiseBundle(bundle, { labels: [], classes: ['Immunization'] }, categories)
    expect(released.entry!.map((e) => e.resource!.resourceType)).toEqual(['Patient'])
  })

  it('a chain of modifier extensions each pointing at the one before takes every link out, and strings of slashes or hashes are read once', () => {
    const entries: BundleEntry[] = [
      { fullUrl: 'urn:uuid:cccccccc-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', id: 'p' } },
      { fullUrl: 'urn:uuid:dddddddd-0000-4000-8000-000000000000', resource: { resourceType: 'Condition', subject: { reference: 'Patient/p' }, code: { coding: [dep] } } as unknown as Resource },
    ]
    for (let i = 1; i <= 300; i++) {
      entries.splice(2, 0, {
        fullUrl: `urn:uuid:dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}`,
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: `CHAIN-${i}` },
          extension: [{ url: 'http://example.org/after', valueUri: `urn:uuid:dddddddd-0000-4000-8000-${String(i - 1).padStart(12, '0')}` }],
        } as unknown as Resource,
      })
    }
    entries.push({
      fullUrl: 'urn:uuid:cccccccc-0000-4000-8000-000000000009',
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'kept' }, valueString: `a${'/'.repeat(50_000)}x${'#'.repeat(50_000)}\n` } as unknown as Resource,
    })
    const released = minimiseBundle({ resourceType: 'Bundle', type: 'collection', entry: entries }, PSY, categories)
    expect(JSON.stringify(released)).not.toContain('CHAIN-')
    expect(released.entry!.map((e) => e.resource!.resourceType)).toEqual(['Patient', 'Observation'])
  })

  it('an upload whose bundle is labelled with a category the consent excludes for every recipient is refused at intake', async () => {
    const vNummer = newVNummer()
    await recordConsent(consentWith(vNummer, { underRoot: [denyLabels(['PSY'])] }))
    const observation = { resourceType: 'Observation', status: 'final', code: { text: 'sleep pattern' }, subject: { reference: 'urn:uuid:8f1b3c1e-6f0a-4c7e-9d51-1f5f6c0e0001' } }
    const bundle = { ...handoverBundle(vNummer, [observation as unknown as Resource]), meta: { security: [{ system: V3, code: 'PSY' }] } }
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(res.status, await text(res)).toBe(422)
  })
})

describe('ways around the exclusions that are closed, fourth round', () => {
  const categories = DEFAULT_SENSITIVE_CATEGORIES
  const PSY = { labels: ['PSY'], classes: [] as string[] }
  const dep = { system: 'http://snomed.info/sct', code: '35489007' }
  const patientEntry = (patient: Record<string, unknown>): BundleEntry => ({ fullUrl: 'urn:uuid:eeeeeeee-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', id: 'p', ...patient } as unknown as Resource })
  const leftOut: BundleEntry = {
    fullUrl: 'urn:uuid:eeeeeeee-0000-4000-8000-000000000002',
    resource: { resourceType: 'Condition', id: 'x1', identifier: [{ system: 'http://example.org/ids/', value: 'D-77' }], subject: { reference: 'Patient/p' }, code: { coding: [dep] } } as unknown as Resource,
  }

  it('the Patient keeps only V-nummer and BSN, plain names, phone numbers, city and country, BCP 47 languages; the release is valid R4', () => {
    const patient = patientEntry({
      identifier: [
        { system: SYSTEM.vNummer, value: 'V1234567890', type: { coding: [dep], text: 'CANARY-IDTYPE' }, assigner: { reference: '#o' } },
        { system: 'http://ggz.example/patientnummer', value: 'CANARY-GGZ' },
      ],
      contained: [{ resourceType: 'Organization', id: 'o', name: 'CANARY-ORG' }],
      name: [{ family: 'Voorbeeld', given: ['Amal'], text: 'CANARY-NAMETEXT', suffix: ['CANARY-SUFFIX'] }, { extension: [{ url: 'http://example.org/x', valueString: 'y' }] }],
      telecom: [{ system: 'phone', value: '06 1234 5678' }, { system: 'url', value: 'urn:uuid:eeeeeeee-0000-4000-8000-000000000002' }, { extension: [{ url: 'http://example.org/x', valueString: 'y' }] }],
      address: [{ line: ['CANARY-LINE afd. gesloten psychiatrie'], text: 'CANARY-ADDRESS', city: 'Ter Apel', country: 'NL' }],
      communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ti' }, dep], text: 'CANARY-LANGUAGE' } }],
      generalPractitioner: [{ identifier: { system: 'http://example.org/ids', value: 'D-77' } }],
    })
    const released = minimiseBundle({ resourceType: 'Bundle', type: 'collection', entry: [patient, leftOut] }, PSY, categories)
    const json = JSON.stringify(released)
    for (const gone of ['CANARY', '35489007', 'D-77', 'eeeeeeee-0000-4000-8000-000000000002']) expect(json, gone).not.toContain(gone)
    for (const kept of ['V1234567890', 'Voorbeeld', '06 1234 5678', 'Ter Apel', '"ti"']) expect(json, kept).toContain(kept)
    expectValidR4(released)
  })

  it('an attachment by url alone, base64 in any element, and pointers with a query, an operation or percent-encoding take their entry out', () => {
    const entry = (n: number, resource: Record<string, unknown>): BundleEntry => ({ fullUrl: `urn:uuid:eeeeeeee-0000-4000-8000-00000000001${n}`, resource: resource as unknown as Resource })
    const released = minimiseBundle(
      {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          patientEntry({}),
          leftOut,
          entry(1, { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { url: 'https://ggz.example/CANARY-LETTER.pdf' } }] }),
          entry(2, { resourceType: 'Observation', status: 'final', code: { text: 'CANARY-B64' }, extension: [{ url: 'http://example.org/x', valueBase64Binary: 'e30=' }] }),
          entry(3, { resourceType: 'Observation', status: 'final', code: { text: 'CANARY-QUERY' }, extension: [{ url: 'http://example.org/x', valueUri: 'Condition/x1?_format=json' }] }),
          entry(4, { resourceType: 'Observation', status: 'final', code: { text: 'CANARY-OP' }, extension: [{ url: 'http://example.org/x', valueUri: 'http://gza.example/fhir/Condition/x1/$meta' }] }),
          entry(5, { resourceType: 'Observation', status: 'final', code: { text: 'CANARY-PCT' }, extension: [{ url: 'http://example.org/x', valueUri: 'urn%3Auuid%3Aeeeeeeee-0000-4000-8000-000000000002' }] }),
        ],
      },
      PSY,
      categories,
    )
    expect(JSON.stringify(released)).not.toContain('CANARY')
    expect(released.entry!.map((e) => e.resource!.resourceType)).toEqual(['Patient'])
  })

  it('contained resources reachable only through a chain, or referring to their container, are kept; unreachable ones go; Composition titles become neutral', () => {
    const contained = Array.from({ length: 50 }, (_, i) => ({ resourceType: 'Practitioner', id: `c${i}`, ...(i > 0 ? { extension: [{ url: 'http://example.org/next', valueReference: { reference: `#c${i - 1}` } }] } : {}) }))
    const observation: BundleEntry = {
      fullUrl: 'urn:uuid:eeeeeeee-0000-4000-8000-000000000020',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'kept' },
        contained: [...contained, { resourceType: 'Provenance', id: 'prov', target: [{ reference: '#' }], recorded: '2026-11-24T09:00:00Z', agent: [{ who: { display: 'x' } }] }, { resourceType: 'Practitioner', id: 'lonely' }],
        performer: [{ reference: '#c49' }],
      } as unknown as Resource,
    }
    const composition: BundleEntry = {
      fullUrl: 'urn:uuid:eeeeeeee-0000-4000-8000-000000000021',
      resource: { resourceType: 'Composition', status: 'final', type: { text: 't' }, date: '2026-11-24', author: [{ reference: 'Patient/p' }], title: 'CANARY-TITLE Ontslagbrief PAAZ: depressie', section: [{ code: { text: 'CANARY-SECTIONCODE' }, entry: [{ reference: 'urn:uuid:eeeeeeee-0000-4000-8000-000000000020' }] }] } as unknown as Resource,
    }
    const released = minimiseBundle({ resourceType: 'Bundle', type: 'collection', entry: [patientEntry({}), leftOut, observation, composition] }, PSY, categories)
    const kept = released.entry!.find((e) => e.resource!.resourceType === 'Observation')!.resource as unknown as { contained: { id: string }[] }
    expect(kept.contained.map((c) => c.id).sort()).toEqual([...contained.map((c) => c.id), 'prov'].sort())
    expect(JSON.stringify(released)).not.toContain('CANARY')
    expectValidR4(released)
  })
})
