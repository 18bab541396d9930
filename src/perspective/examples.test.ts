import { readFileSync } from 'node:fs'
import type { Bundle, Resource } from '@medplum/fhirtypes'
import { beforeAll, describe, expect, it } from 'vitest'
import { validateFhirResource, warmUpFhirValidation } from '../fhir/validation.js'
import { DEFAULT_ALERT_MAPPING, derivePerspective } from './derive.js'
import {
  exampleActionFlag,
  exampleAlertFlag,
  exampleFitToTravelObservation,
  exampleHandoverBundle,
  exampleMedicalPostponementObservation,
  exampleMedicationStatement,
} from './examples.js'
import { ACTION_CODES, FIT_TO_TRAVEL_VALUES, LEGAL_GROUNDS, POSTPONEMENT_VALUES } from './vocabulary.js'
import { visibleFlags } from './view.js'

beforeAll(() => warmUpFhirValidation())

const show = (value: unknown) => JSON.stringify(value, null, 2)
const NOW = new Date('2026-11-24T12:00:00Z')

const EXAMPLES: [string, Resource][] = [
  ...ACTION_CODES.filter((c) => c !== 'fit-to-travel' && c !== 'medical-postponement').map(
    (code) => [`Flag ${code}`, exampleActionFlag(code)] as [string, Resource],
  ),
  ...LEGAL_GROUNDS.map((g) => [`Flag hygiene-measures marked ${g}`, exampleActionFlag('hygiene-measures', { legalGround: g })] as [string, Resource]),
  ['Flag fit-to-travel = no', exampleActionFlag('fit-to-travel', { value: 'no' })],
  ['Flag medical-postponement = granted with a period', exampleActionFlag('medical-postponement', { value: 'granted', period: { start: '2026-11-02', end: '2027-05-01' } })],
  ...DEFAULT_ALERT_MAPPING.map((e) => [`zib Alert Flag SNOMED ${e.code}`, exampleAlertFlag(e.code)] as [string, Resource]),
  ...FIT_TO_TRAVEL_VALUES.map((v) => [`fit-to-travel Observation ${v}`, exampleFitToTravelObservation(v, '2026-11-20T10:00:00+01:00')] as [string, Resource]),
  ...POSTPONEMENT_VALUES.map((v) => [`medical-postponement Observation ${v}`, exampleMedicalPostponementObservation(v, '2026-11-02')] as [string, Resource]),
  ['medical-postponement Observation granted until a date', exampleMedicalPostponementObservation('granted', '2026-11-02', { until: '2027-05-01' })],
  ['MedicationStatement', exampleMedicationStatement()],
]

describe('examples.ts', () => {
  it.each(EXAMPLES)('%s is valid R4', (_name, resource) => {
    const issues = validateFhirResource(resource)
    expect(issues, show({ issues, resource })).toEqual([])
  })

  it('a handover bundle of all examples is valid R4 and has the Patient first, with the V-nummer', () => {
    const bundle = exampleHandoverBundle('V1234567890', EXAMPLES.map(([, r]) => r))
    const issues = validateFhirResource(bundle)
    expect(issues, show(issues)).toEqual([])
    expect(bundle.entry?.[0]?.resource, show(bundle.entry?.[0])).toMatchObject({ resourceType: 'Patient' })
  })

  it('builders return fresh objects', () => {
    const a = exampleActionFlag('mobility-aid')
    a.status = 'inactive'
    expect(exampleActionFlag('mobility-aid').status).toBe('active')
  })
})

describe('docs/handelingsperspectief.md', () => {
  const doc = readFileSync(new URL('../../docs/handelingsperspectief.md', import.meta.url), 'utf8')
  const blocks = [...doc.matchAll(/(?:<!-- ([a-z-]+) -->\n)?```json\n([\s\S]*?)\n```/g)].map((m) => ({
    marker: m[1],
    json: JSON.parse(m[2] ?? '') as unknown,
  }))
  const marked = (marker: string) => blocks.find((b) => b.marker === marker)?.json
  const resources = blocks.filter((b) => typeof b.json === 'object' && b.json !== null && 'resourceType' in b.json)

  it('has FHIR examples', () => {
    expect(resources.length, show(blocks)).toBeGreaterThanOrEqual(5)
  })

  it.each(resources.map((b, i) => [i, (b.json as Resource).resourceType, b.json] as const))('JSON example %i (%s) is valid R4', (_i, _type, json) => {
    const issues = validateFhirResource(json)
    expect(issues, show(issues)).toEqual([])
  })

  it('the worked example derives to the output it states, and the escort view it states', () => {
    const perspective = derivePerspective(marked('derive-input') as Bundle, NOW)
    expect(perspective, show(perspective)).toEqual(marked('derive-output'))
    expect(visibleFlags(perspective, 'escort', false)).toEqual(marked('visible-escort-without-consent'))
  })
})
