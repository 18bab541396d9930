/**
 * The benchmark's data shapes: the ~30 KB handover bundle, the consent and the task of each
 * patient, and the callers. Everything is built from the repository's own fixtures and builders:
 *
 * - the bundle is a Synthea patient record (test/fixtures/fhir/synthea, reshaped transaction ->
 *   collection and given a V-nummer exactly as test/support/fhir-builders.ts does), trimmed to its
 *   clinical entries (no Claim / ExplanationOfBenefit billing data) and the newest Observations
 *   until it is about 30 KB, plus the coded handelingsperspectief entries of
 *   examples/handover-bundle.json (fit to travel, medical escort, supervision, medication along);
 * - per patient only identifiers vary: the Synthea patient uuid (fullUrl, id, references and
 *   identifier) and the V-nummer; the fit-to-travel value rotates over three values;
 * - the consent is `consentResource` of the test builders (default provisions: handover to
 *   medical escorts, DJI and GZA; action-perspective to DT&V, DV&O, KMar and COA).
 */
import { readFileSync } from 'node:fs'
import type { Bundle, BundleEntry, Consent } from '@medplum/fhirtypes'
import { SYSTEM } from '../src/fhir/systems.js'
import { consentResource, syntheaAsCollection } from '../test/support/fhir-builders.js'
import type { BigRegisterRecord } from '../src/big/big-record.js'

/** The Synthea record the bundle is cut from. */
export const SYNTHEA_FILE = 'Kermit_Trantow_f1a650a5-737e-4fd7-828e-03c3348b9524.json'
/** Target size of the uploaded bundle (compact JSON, as the service stores it). */
export const TARGET_BUNDLE_BYTES = 30_000

const PATIENT_UUID = '__BENCH_PATIENT_UUID__'
const V_NUMMER = '__BENCH_V_NUMMER__'

/** Resource types a handover carries, in the order they are taken. */
const CLINICAL_TYPES = ['Patient', 'Organization', 'Practitioner', 'AllergyIntolerance', 'Condition', 'MedicationRequest', 'CarePlan', 'Immunization', 'Procedure']

export const FIT_VALUES = [
  { code: 'conditional', display: 'Fit to travel under conditions' },
  { code: 'yes', display: 'Fit to travel' },
  { code: 'no', display: 'Not fit to travel' },
] as const

/** V-nummer of seeded patient number `n` (0-based). */
export const vNummerOf = (n: number) => `V${String(1_000_000_000 + n)}`

/** A uuid for seeded patient number `n` inside the bundle (the Synthea patient uuid, varied). */
export const bundlePatientUuid = (n: number) => `1f456f0a-acb1-4728-82af-${n.toString(16).padStart(12, '0')}`

export interface BundleTemplate {
  /** Compact JSON with the placeholders split out: parts[0] + value + parts[1] + ... */
  parts: string[]
  /** Which value goes between part i and i+1: 'uuid' or 'v'. */
  slots: ('uuid' | 'v')[]
  fitValue: string
}

function perspectiveEntries(patientFullUrl: string, fit: (typeof FIT_VALUES)[number], effective: string): BundleEntry[] {
  const example = JSON.parse(readFileSync(new URL('../examples/handover-bundle.json', import.meta.url), 'utf8')) as Bundle
  const exampleSubject = example.entry!.find((e) => e.resource?.resourceType === 'Patient')!.fullUrl!
  const text = JSON.stringify(example.entry!.filter((e) => e.resource?.resourceType !== 'Patient')).split(exampleSubject).join(patientFullUrl)
  const entries = JSON.parse(text) as BundleEntry[]
  for (const entry of entries) {
    const r = entry.resource as any
    if (r.resourceType === 'Observation' && r.code?.coding?.[0]?.code === 'fit-to-travel') {
      r.effectiveDateTime = effective
      r.valueCodeableConcept.coding[0].code = fit.code
      r.valueCodeableConcept.coding[0].display = fit.display
    }
  }
  return entries
}

/**
 * The bundle templates (one per fit-to-travel value). `assessedAt` is the time of the fit-to-travel
 * Observation: it must lie before the seed's and the load's "now" for the derivation to use it.
 */
export function bundleTemplates(assessedAt: Date): BundleTemplate[] {
  const base = syntheaAsCollection(SYNTHEA_FILE, V_NUMMER)
  const patient = base.entry!.find((e) => e.resource?.resourceType === 'Patient')!
  const originalUuid = patient.resource!.id!
  const byType = (t: string) => base.entry!.filter((e) => e.resource?.resourceType === t)
  const observations = byType('Observation').sort((a, b) =>
    String((b.resource as any).effectiveDateTime ?? '').localeCompare(String((a.resource as any).effectiveDateTime ?? '')),
  )
  const effective = assessedAt.toISOString()
  return FIT_VALUES.map((fit) => {
    const tail = perspectiveEntries(patient.fullUrl!, fit, effective)
    const entries: BundleEntry[] = CLINICAL_TYPES.flatMap(byType)
    const size = (list: BundleEntry[]) => JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: list }).length
    const tailBytes = JSON.stringify(tail).length
    for (const obs of observations) {
      if (size(entries) + tailBytes + JSON.stringify(obs).length > TARGET_BUNDLE_BYTES) break
      entries.push(obs)
    }
    const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [...entries, ...tail] }
    // The patient's uuid (fullUrl, id, references, Synthea identifier) becomes a placeholder.
    const pieces = JSON.stringify(bundle).split(originalUuid)
    const parts: string[] = []
    const slots: ('uuid' | 'v')[] = []
    pieces.forEach((piece, i) => {
      const vs = piece.split(V_NUMMER)
      vs.forEach((p, j) => {
        parts.push(p)
        if (j < vs.length - 1) slots.push('v')
      })
      if (i < pieces.length - 1) slots.push('uuid')
    })
    return { parts, slots, fitValue: fit.code }
  })
}

/** The bundle of patient `n` as a caregiver uploads it (compact JSON). */
export function bundleText(template: BundleTemplate, n: number): string {
  const uuid = bundlePatientUuid(n)
  const v = vNummerOf(n)
  let out = template.parts[0]!
  for (let i = 0; i < template.slots.length; i++) out += (template.slots[i] === 'uuid' ? uuid : v) + template.parts[i + 1]!
  return out
}

export const templateFor = (templates: BundleTemplate[], n: number) => templates[n % templates.length]!

/** The consent each patient gave: the test builders' default consent, recorded `at`. */
export function benchConsent(vNummer: string, at: Date): Consent {
  return consentResource({ vNummer, dateTime: at.toISOString() })
}

// ---- Callers -------------------------------------------------------------------------------------

/** Fictional organisations (URA) and caregivers (BIG) of the benchmark. */
export const BENCH_URA = { gza: '90000001', escort: '90000003', dtv: '90000004', dvo: '90000005' }
export const BENCH_BIG = { gzaArts: '90000000101', escortNurse: '09000000330' }

export const BENCH_CALLERS = {
  gzaDoctor: { sub: 'bench-gza-doctor', name: 'Bench GZA arts', org: BENCH_URA.gza, org_type: 'gza', role: 'caregiver', big: BENCH_BIG.gzaArts },
  escortNurse: {
    sub: 'bench-escort-nurse',
    name: 'Bench escort nurse',
    org: BENCH_URA.escort,
    org_type: 'medical-escort',
    role: 'caregiver',
    big: BENCH_BIG.escortNurse,
  },
  regievoerder: { sub: 'bench-dtv', name: 'Bench regievoerder', org: BENCH_URA.dtv, org_type: 'dtv', role: 'regievoerder' },
  privacyOfficer: { sub: 'bench-po', name: 'Bench privacy officer', org: BENCH_URA.gza, org_type: 'gza', role: 'privacy-officer' },
} as const

export const BENCH_BIG_RECORDS: BigRegisterRecord[] = [
  { big: BENCH_BIG.gzaArts, name: 'A. Bench-Gza', gender: 'V', professionalGroupCode: '01', startDate: '2012-03-01', endDate: null },
  { big: BENCH_BIG.escortNurse, name: 'C. Bench-Escorte', gender: 'V', professionalGroupCode: '30', startDate: '2016-05-15', endDate: null },
]

/** The departure task each patient has: announced by DT&V, owned by DV&O. */
export const TASK_PARTIES = { requester: BENCH_URA.dtv, owner: BENCH_URA.dvo }

export { SYSTEM }
