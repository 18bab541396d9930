/**
 * P8 as a property: whatever a bundle holds in its free-text, narrative, display, note, comment,
 * title, name, identifier and date fields, and whatever codes outside the vocabulary it carries, no
 * string of it reaches a derived perspective or what any audience sees of it.
 *
 * Every such string is a canary: "zz" + random letters and digits + "zz". No vocabulary term, date
 * or boolean contains "zz", so a canary in the output can only have come from the bundle.
 */
import fc from 'fast-check'
import type { Bundle, Resource } from '@medplum/fhirtypes'
import { describe, expect, it } from 'vitest'
import { SYSTEM } from '../fhir/systems.js'
import { DEFAULT_ALERT_MAPPING, derivePerspective, type DerivedPerspective } from './derive.js'
import {
  ACTION_CODES,
  FIT_TO_TRAVEL_VALUES,
  HANDELINGSPERSPECTIEF_SYSTEM,
  LEGAL_GROUND_EXTENSION,
  LEGAL_GROUND_SYSTEM,
  LEGAL_GROUNDS,
  PERSPECTIVE_VALUE_EXTENSION,
  PERSPECTIVE_VALUE_SYSTEM,
  POSTPONEMENT_VALUES,
  VOCABULARY,
  findValue,
} from './vocabulary.js'
import { visibleFlags, type PerspectiveAudience } from './view.js'

const NOW = new Date('2026-11-24T12:00:00Z')
const RUNS = 300
const SNOMED = 'http://snomed.info/sct'
const AUDIENCES: PerspectiveAudience[] = ['caregiver', 'regievoerder', 'escort', 'casemanager']

const CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789']
const canary = fc.string({ unit: fc.constantFrom(...CHARS), minLength: 4, maxLength: 12 }).map((s) => `zz${s}zz`)
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })

/** Dates that are valid and either side of NOW, or canaries (which must make the element unusable). */
const date = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('2024', '2026-11', '2026-11-01', '2026-11-24', '2026-11-20T10:00:00+01:00', '2026-11-25', '2027-06-01T00:00:00Z'),
  },
  { weight: 1, arbitrary: canary },
)
const narrative = canary.map((c) => ({ status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${c}</div>` }))
const identifier = fc.record({ system: fc.constantFrom('urn:oid:2.16.528.1', SYSTEM.vNummer), value: canary })
const reference = fc.record({ reference: canary.map((c) => `Practitioner/${c}`), display: canary })
const annotation = fc.record({ text: canary, authorString: canary })
const codingIn = (system: fc.Arbitrary<string>, code: fc.Arbitrary<string>) => fc.record({ system, code, display: canary })
/** A coding outside the vocabulary: any system (ours included) with a canary code. */
const foreignCoding = codingIn(fc.constantFrom(SNOMED, HANDELINGSPERSPECTIEF_SYSTEM, PERSPECTIVE_VALUE_SYSTEM, LEGAL_GROUND_SYSTEM, 'urn:oid:2.16.840.1.113883.2.4.4.1'), canary)
const concept = (coding: fc.Arbitrary<object>) => fc.record({ coding: fc.array(coding, { minLength: 1, maxLength: 3 }), text: canary })
const valueCoding = codingIn(fc.constant(PERSPECTIVE_VALUE_SYSTEM), fc.constantFrom<string>(...FIT_TO_TRAVEL_VALUES, ...POSTPONEMENT_VALUES))
const legalCoding = codingIn(fc.constant(LEGAL_GROUND_SYSTEM), fc.constantFrom<string>(...LEGAL_GROUNDS))
const extensions = fc.array(
  fc.oneof(
    fc.record({ url: fc.constant(LEGAL_GROUND_EXTENSION), valueCodeableConcept: concept(fc.oneof(legalCoding, foreignCoding)) }),
    fc.record({ url: fc.constant(PERSPECTIVE_VALUE_EXTENSION), valueCodeableConcept: concept(fc.oneof(valueCoding, foreignCoding)) }),
    fc.record({ url: fc.constant('http://nictiz.nl/fhir/StructureDefinition/ext-Comment'), valueString: canary }),
    fc.record({ url: fc.constant('http://hl7.org/fhir/StructureDefinition/flag-detail'), valueReference: reference }),
    fc.record({ url: canary.map((c) => `https://example.org/${c}`), valueString: canary }),
  ),
  { maxLength: 4 },
)
const period = maybe(fc.record({ start: maybe(date), end: maybe(date) }, { requiredKeys: [] }))

const patient = fc.record({
  resourceType: fc.constant('Patient'),
  id: canary,
  text: narrative,
  identifier: fc.array(identifier, { minLength: 1, maxLength: 2 }),
  name: fc.array(fc.record({ text: canary, family: canary, given: fc.array(canary, { maxLength: 2 }) }), { minLength: 1, maxLength: 2 }),
  telecom: fc.array(fc.record({ system: fc.constant('phone'), value: canary }), { maxLength: 1 }),
  address: fc.array(fc.record({ text: canary, city: canary }), { maxLength: 1 }),
})

const vocabularyCoding = codingIn(fc.constant(HANDELINGSPERSPECTIEF_SYSTEM), fc.constantFrom<string>(...ACTION_CODES))
const alertCoding = codingIn(fc.constant(SNOMED), fc.constantFrom(...DEFAULT_ALERT_MAPPING.map((e) => e.code)))

const flag = fc.record({
  resourceType: fc.constant('Flag'),
  id: canary,
  text: narrative,
  identifier: fc.array(identifier, { maxLength: 2 }),
  extension: extensions,
  status: fc.constantFrom('active', 'active', 'inactive', 'entered-in-error'),
  category: fc.array(concept(foreignCoding), { maxLength: 1 }),
  code: concept(fc.oneof(vocabularyCoding, alertCoding, foreignCoding)),
  subject: reference,
  period,
  author: reference,
})

const observation = fc.record(
  {
    resourceType: fc.constant('Observation'),
    id: canary,
    text: narrative,
    identifier: fc.array(identifier, { maxLength: 1 }),
    status: fc.constantFrom('final', 'amended', 'corrected', 'preliminary', 'entered-in-error'),
    code: concept(fc.oneof(codingIn(fc.constant(HANDELINGSPERSPECTIEF_SYSTEM), fc.constantFrom('fit-to-travel', 'medical-postponement')), foreignCoding)),
    subject: reference,
    effectiveDateTime: date,
    effectivePeriod: fc.record({ start: date, end: date }, { requiredKeys: [] }),
    issued: date,
    performer: fc.array(reference, { maxLength: 1 }),
    valueCodeableConcept: concept(fc.oneof(valueCoding, foreignCoding)),
    valueString: canary,
    interpretation: fc.array(concept(foreignCoding), { maxLength: 1 }),
    note: fc.array(annotation, { maxLength: 2 }),
    method: concept(foreignCoding),
    component: fc.array(fc.record({ code: concept(foreignCoding), valueString: canary }), { maxLength: 1 }),
  },
  { requiredKeys: ['resourceType', 'status', 'code'] },
)

const medicationStatement = fc.record(
  {
    resourceType: fc.constant('MedicationStatement'),
    id: canary,
    text: narrative,
    identifier: fc.array(identifier, { maxLength: 1 }),
    status: fc.constantFrom('active', 'intended', 'completed', 'stopped', 'entered-in-error'),
    medicationCodeableConcept: concept(foreignCoding),
    subject: reference,
    effectivePeriod: fc.record({ start: date, end: date }, { requiredKeys: [] }),
    informationSource: reference,
    reasonCode: fc.array(concept(foreignCoding), { maxLength: 1 }),
    note: fc.array(annotation, { maxLength: 1 }),
    dosage: fc.array(fc.record({ text: canary, patientInstruction: canary }), { maxLength: 1 }),
  },
  { requiredKeys: ['resourceType', 'status', 'medicationCodeableConcept'] },
)

const condition = fc.record({
  resourceType: fc.constant('Condition'),
  id: canary,
  text: narrative,
  code: concept(foreignCoding),
  note: fc.array(annotation, { maxLength: 1 }),
  subject: reference,
})

const composition = fc.record({
  resourceType: fc.constant('Composition'),
  id: canary,
  text: narrative,
  status: fc.constant('final'),
  type: concept(foreignCoding),
  title: canary,
  date: date,
  author: fc.array(reference, { minLength: 1, maxLength: 1 }),
  section: fc.array(fc.record({ title: canary, code: concept(foreignCoding), text: narrative }), { maxLength: 2 }),
})

const documentReference = fc.record({
  resourceType: fc.constant('DocumentReference'),
  id: canary,
  status: fc.constant('current'),
  description: canary,
  content: fc.array(fc.record({ attachment: fc.record({ title: canary, contentType: fc.constant('text/plain') }) }), { minLength: 1, maxLength: 1 }),
})

const resources = fc.tuple(
  patient,
  fc.array(flag, { maxLength: 6 }),
  fc.array(observation, { maxLength: 4 }),
  fc.array(medicationStatement, { maxLength: 3 }),
  fc.array(fc.oneof(condition, composition, documentReference), { maxLength: 3 }),
)

const bundle = fc
  .tuple(resources, canary, fc.constantFrom('collection', 'document'))
  .chain(([[p, flags, observations, statements, others], id, type]) =>
    fc.shuffledSubarray([p, ...flags, ...observations, ...statements, ...others] as object[], { minLength: 1 + flags.length + observations.length + statements.length + others.length }).map(
      (all) =>
        ({
          resourceType: 'Bundle',
          id,
          identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${id}` },
          type,
          entry: all.map((resource, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resource: resource as Resource })),
        }) as Bundle,
    ),
  )

/** Every string in the input that holds a canary. */
function canariesIn(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    for (const match of value.matchAll(/zz[A-Za-z0-9]{4,12}zz/g)) found.add(match[0])
  } else if (Array.isArray(value)) {
    for (const item of value) canariesIn(item, found)
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      canariesIn(k, found)
      canariesIn(v, found)
    }
  }
  return found
}

function outputs(perspective: DerivedPerspective): string[] {
  return [
    JSON.stringify(perspective),
    ...AUDIENCES.flatMap((audience) => [true, false].map((consent) => JSON.stringify(visibleFlags(perspective, audience, consent)))),
  ]
}

describe('derivePerspective (property): no bundle string reaches any output', () => {
  it(`holds for ${RUNS} random bundles with canaries in every free-text, name, identifier, unknown code and date field`, () => {
    fc.assert(
      fc.property(bundle, (input) => {
        const canaries = canariesIn(input)
        const perspective = derivePerspective(input, NOW)
        for (const json of outputs(perspective)) {
          expect(json).not.toMatch(/zz/)
          for (const c of canaries) expect(json, c).not.toContain(c)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it(`holds with a custom alert mapping that maps a bundle's canary codes (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(bundle, (input) => {
        const alertMapping = [...canariesIn(input)].map((code) => ({ system: SNOMED, code, actions: ['contact-medical-service'] as const }))
        const perspective = derivePerspective(input, NOW, { alertMapping })
        for (const json of outputs(perspective)) expect(json).not.toMatch(/zz/)
      }),
      { numRuns: RUNS },
    )
  })

  it(`every output is well-formed: vocabulary codes once each, in order, valid values, grounds only on safety-critical codes (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(bundle, (input) => {
        const perspective = derivePerspective(input, NOW)
        const codes = perspective.flags.map((f) => f.code)
        const order = codes.map((c) => ACTION_CODES.indexOf(c))
        expect(order, JSON.stringify(codes)).toEqual([...order].sort((a, b) => a - b))
        expect(new Set(codes).size).toBe(codes.length)
        expect(codes[0]).toBe('fit-to-travel')
        expect(Math.min(...order)).toBeGreaterThanOrEqual(0)
        for (const flag of perspective.flags) {
          expect(flag.safetyCritical).toBe(VOCABULARY[flag.code].safetyCritical)
          if (flag.legalGround !== undefined) expect(flag.safetyCritical && LEGAL_GROUNDS.includes(flag.legalGround)).toBe(true)
          if (flag.code === 'fit-to-travel' || flag.code === 'medical-postponement') {
            expect(findValue(flag.code, flag.value), JSON.stringify(flag)).toBeDefined()
          } else {
            expect(flag.value).toBeUndefined()
          }
          if (flag.until !== undefined) expect(flag.value).toBe('granted')
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('the generator exercises every rule (so the properties above are not vacuous)', () => {
    const seen = new Set<string>()
    for (const input of fc.sample(bundle, { numRuns: 1000, seed: 20261124 })) {
      const perspective = derivePerspective(input, NOW)
      for (const flag of perspective.flags) {
        seen.add(flag.value === undefined ? flag.code : `${flag.code}=${flag.value}`)
        if (flag.until !== undefined) seen.add('until')
        if (flag.legalGround !== undefined) seen.add(`ground:${flag.legalGround}`)
      }
      if (perspective.fitToTravelAssessedAt !== undefined) seen.add('assessedAt')
    }
    const expected = [
      ...FIT_TO_TRAVEL_VALUES.map((v) => `fit-to-travel=${v}`),
      ...POSTPONEMENT_VALUES.map((v) => `medical-postponement=${v}`),
      ...ACTION_CODES.filter((c) => c !== 'fit-to-travel' && c !== 'medical-postponement'),
      'until',
      'assessedAt',
      ...LEGAL_GROUNDS.map((g) => `ground:${g}`),
    ]
    expect([...seen].sort(), JSON.stringify([...seen])).toEqual(expect.arrayContaining(expected))
  })

  it(`never throws on arbitrary JSON in place of resources, and still emits no string from it (${RUNS} runs)`, () => {
    const junk = fc.oneof(
      fc.jsonValue(),
      fc.record({ resourceType: fc.constantFrom('Flag', 'Observation', 'MedicationStatement'), status: fc.jsonValue(), code: fc.jsonValue(), period: fc.jsonValue(), extension: fc.jsonValue(), effectivePeriod: fc.jsonValue(), valueCodeableConcept: fc.jsonValue() }, { requiredKeys: ['resourceType'] }),
    )
    fc.assert(
      fc.property(fc.array(fc.record({ resource: junk, fullUrl: fc.string() }, { requiredKeys: [] }), { maxLength: 6 }), (entry) => {
        const perspective = derivePerspective({ resourceType: 'Bundle', type: 'collection', entry } as unknown as Bundle, NOW)
        const allowed = new Set<string>(['flags', 'code', 'value', 'until', 'safetyCritical', 'legalGround', 'fitToTravelAssessedAt', ...ACTION_CODES, ...FIT_TO_TRAVEL_VALUES, ...POSTPONEMENT_VALUES, ...LEGAL_GROUNDS])
        const strings = JSON.stringify(perspective).match(/"(?:[^"\\]|\\.)*"/g) ?? []
        for (const s of strings) expect(allowed.has(JSON.parse(s) as string), s).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })
})
