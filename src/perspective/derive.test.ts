import fc from 'fast-check'
import type { Bundle, Flag, Observation, Resource } from '@medplum/fhirtypes'
import { describe, expect, it } from 'vitest'
import { DEFAULT_ALERT_MAPPING, derivePerspective, type DerivedFlag, type DerivedPerspective } from './derive.js'
import {
  exampleActionFlag,
  exampleAlertFlag,
  exampleFitToTravelObservation,
  exampleHandoverBundle,
  exampleMedicalPostponementObservation,
  exampleMedicationStatement,
} from './examples.js'
import {
  ACTION_CODES,
  HANDELINGSPERSPECTIEF_SYSTEM,
  LEGAL_GROUND_EXTENSION,
  LEGAL_GROUND_SYSTEM,
  PERSPECTIVE_VALUE_SYSTEM,
  VOCABULARY,
  type FitToTravel,
  type PlainActionCode,
  type PostponementStatus,
} from './vocabulary.js'

const NOW = new Date('2026-11-24T12:00:00Z')
const SNOMED = 'http://snomed.info/sct'
const UNKNOWN_FIT: DerivedFlag = { code: 'fit-to-travel', value: 'unknown', safetyCritical: false }

const show = (value: unknown) => JSON.stringify(value, null, 2)
const bundleOf = (...resources: Resource[]): Bundle => exampleHandoverBundle('V0000000001', resources)
const derive = (...resources: Resource[]): DerivedPerspective => derivePerspective(bundleOf(...resources), NOW)
const flagOf = (perspective: DerivedPerspective, code: string) => perspective.flags.find((f) => f.code === code)
const codesOf = (perspective: DerivedPerspective) => perspective.flags.map((f) => f.code)

const PLAIN_CODES = ACTION_CODES.filter((c): c is PlainActionCode => c !== 'fit-to-travel' && c !== 'medical-postponement')

describe('derivePerspective: no sources', () => {
  it('an empty bundle gives only fit-to-travel = unknown and no assessment time', () => {
    const perspective = derive()
    expect(perspective, show(perspective)).toEqual({ flags: [UNKNOWN_FIT] })
  })

  it('a bundle without entries gives the same', () => {
    const perspective = derivePerspective({ resourceType: 'Bundle', type: 'collection' }, NOW)
    expect(perspective, show(perspective)).toEqual({ flags: [UNKNOWN_FIT] })
  })

  it('an invalid `now` is refused', () => {
    expect(() => derivePerspective(bundleOf(), new Date('not a date'))).toThrow(RangeError)
  })
})

describe('derivePerspective: active Flags with a handelingsperspectief code', () => {
  it.each(PLAIN_CODES)('an active Flag coded %s gives that code', (code) => {
    const perspective = derive(exampleActionFlag(code))
    expect(flagOf(perspective, code), show(perspective)).toEqual({ code, safetyCritical: VOCABULARY[code].safetyCritical })
  })

  it.each(['inactive', 'entered-in-error'] as const)('a Flag with status %s is ignored', (status) => {
    const perspective = derive({ ...exampleActionFlag('extra-supervision'), status })
    expect(perspective.flags, show(perspective)).toEqual([UNKNOWN_FIT])
  })

  it.each([
    ['ended yesterday', { start: '2026-11-01', end: '2026-11-23' }],
    ['ended a minute ago', { end: '2026-11-24T11:59:00Z' }],
    ['starts tomorrow', { start: '2026-11-25' }],
    ['starts in an hour', { start: '2026-11-24T14:00:00+01:00' }],
    ['has an unreadable end', { end: '24-11-2026' }],
    ['has an impossible start date', { start: '2026-02-30' }],
  ])('a Flag whose period %s is ignored', (_name, period) => {
    const perspective = derive(exampleActionFlag('extra-supervision', { period }))
    expect(perspective.flags, show(perspective)).toEqual([UNKNOWN_FIT])
  })

  it.each([
    ['open-ended since last year', { start: '2025' }],
    ['ending today (a date covers the whole day)', { start: '2026-11-01', end: '2026-11-24' }],
    ['ending this month', { end: '2026-11' }],
    ['started an hour ago, ends in an hour', { start: '2026-11-24T11:00:00Z', end: '2026-11-24T14:00:00+01:00' }],
  ])('a Flag whose period is %s counts', (_name, period) => {
    const perspective = derive(exampleActionFlag('extra-supervision', { period }))
    expect(codesOf(perspective), show(perspective)).toContain('extra-supervision')
  })

  it('a vocabulary code in another system, in display or in code.text gives nothing', () => {
    const flags: Flag[] = [
      { ...exampleActionFlag('mobility-aid'), code: { coding: [{ system: SNOMED, code: 'mobility-aid' }] } },
      { ...exampleActionFlag('mobility-aid'), code: { coding: [{ system: HANDELINGSPERSPECTIEF_SYSTEM, code: 'x', display: 'mobility-aid' }] } },
      { ...exampleActionFlag('mobility-aid'), code: { text: 'mobility-aid' } },
      { ...exampleActionFlag('mobility-aid'), code: { coding: [{ code: 'mobility-aid' }] } },
    ]
    const perspective = derive(...flags)
    expect(perspective.flags, show(perspective)).toEqual([UNKNOWN_FIT])
  })

  it('a vocabulary code in a contained Flag gives nothing (only bundle entries count)', () => {
    const observation = { ...exampleFitToTravelObservation('yes', '2026-11-20'), contained: [exampleActionFlag('mobility-aid')] }
    const perspective = derive(observation as Resource)
    expect(codesOf(perspective), show(perspective)).not.toContain('mobility-aid')
  })

  it('one Flag with two vocabulary codings gives both codes', () => {
    const flag = exampleActionFlag('mobility-aid')
    flag.code.coding?.push({ system: HANDELINGSPERSPECTIEF_SYSTEM, code: 'contact-medical-service' })
    expect(codesOf(derive(flag))).toEqual(['fit-to-travel', 'contact-medical-service', 'mobility-aid'])
  })

  it('several Flags with one code give one entry', () => {
    const perspective = derive(exampleActionFlag('mobility-aid'), exampleActionFlag('mobility-aid'), exampleActionFlag('mobility-aid'))
    expect(perspective.flags, show(perspective)).toEqual([UNKNOWN_FIT, { code: 'mobility-aid', safetyCritical: false }])
  })

  it('a Flag coded fit-to-travel with a value extension gives that value', () => {
    const perspective = derive(exampleActionFlag('fit-to-travel', { value: 'conditional' }))
    expect(perspective, show(perspective)).toEqual({ flags: [{ code: 'fit-to-travel', value: 'conditional', safetyCritical: false }] })
  })

  it('a Flag coded fit-to-travel without a value, or with a value of medical-postponement, is ignored', () => {
    const perspective = derive(exampleActionFlag('fit-to-travel'), exampleActionFlag('fit-to-travel', { value: 'granted' }))
    expect(perspective.flags, show(perspective)).toEqual([UNKNOWN_FIT])
  })

  it('a Flag coded medical-postponement = granted runs until its period end', () => {
    const flag = exampleActionFlag('medical-postponement', { value: 'granted', period: { start: '2026-10-01', end: '2027-04-01' } })
    const perspective = derive(flag)
    expect(flagOf(perspective, 'medical-postponement'), show(perspective)).toEqual({
      code: 'medical-postponement',
      value: 'granted',
      until: '2027-04-01',
      safetyCritical: false,
    })
  })

  it('the output is in vocabulary order whatever the order of the Flags', () => {
    const reversed = [...PLAIN_CODES].reverse().map((code) => exampleActionFlag(code))
    expect(codesOf(derive(...reversed))).toEqual(['fit-to-travel', ...PLAIN_CODES])
  })
})

describe('derivePerspective: the fit-to-travel Observation', () => {
  it.each(['yes', 'no', 'conditional', 'unknown'] as const)('a final Observation with value %s gives that value and its time', (value) => {
    const perspective = derive(exampleFitToTravelObservation(value, '2026-11-20T10:00:00+01:00'))
    expect(perspective, show(perspective)).toEqual({
      flags: [{ code: 'fit-to-travel', value, safetyCritical: false }],
      fitToTravelAssessedAt: '2026-11-20T10:00:00+01:00',
    })
  })

  it.each(['amended', 'corrected'] as const)('an Observation with status %s counts', (status) => {
    const perspective = derive({ ...exampleFitToTravelObservation('no', '2026-11-20'), status })
    expect(flagOf(perspective, 'fit-to-travel')?.value, show(perspective)).toBe('no')
  })

  it.each(['registered', 'preliminary', 'cancelled', 'entered-in-error', 'unknown'] as const)(
    'an Observation with status %s is ignored',
    (status) => {
      const perspective = derive({ ...exampleFitToTravelObservation('no', '2026-11-20'), status })
      expect(perspective, show(perspective)).toEqual({ flags: [UNKNOWN_FIT] })
    },
  )

  it('the latest Observation wins, whichever comes first in the bundle', () => {
    const older = exampleFitToTravelObservation('no', '2026-11-01')
    const newer = exampleFitToTravelObservation('yes', '2026-11-20T08:00:00Z')
    for (const order of [
      [older, newer],
      [newer, older],
    ]) {
      const perspective = derive(...order)
      expect(perspective, show(perspective)).toEqual({
        flags: [{ code: 'fit-to-travel', value: 'yes', safetyCritical: false }],
        fitToTravelAssessedAt: '2026-11-20T08:00:00Z',
      })
    }
  })

  it('times compare as instants: 09:30Z is later than 10:00+01:00', () => {
    const perspective = derive(
      exampleFitToTravelObservation('yes', '2026-11-20T10:00:00+01:00'),
      exampleFitToTravelObservation('conditional', '2026-11-20T09:30:00Z'),
    )
    expect([flagOf(perspective, 'fit-to-travel')?.value, perspective.fitToTravelAssessedAt]).toEqual([
      'conditional',
      '2026-11-20T09:30:00Z',
    ])
  })

  const CONFLICTS: [FitToTravel, FitToTravel, FitToTravel][] = [
    ['no', 'conditional', 'no'],
    ['no', 'yes', 'no'],
    ['no', 'unknown', 'no'],
    ['unknown', 'conditional', 'unknown'],
    ['unknown', 'yes', 'unknown'],
    ['conditional', 'yes', 'conditional'],
  ]
  it.each(CONFLICTS)('at the same time, %s beats %s (conservative)', (a, b, expected) => {
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const perspective = derive(...order.map((v) => exampleFitToTravelObservation(v, '2026-11-20T10:00:00Z')))
      expect(flagOf(perspective, 'fit-to-travel')?.value, show(perspective)).toBe(expected)
    }
  })

  it('an active Flag "no" beats a newer Observation "yes", and an Observation "no" beats a Flag "yes"', () => {
    const a = derive(exampleActionFlag('fit-to-travel', { value: 'no' }), exampleFitToTravelObservation('yes', '2026-11-23'))
    expect([flagOf(a, 'fit-to-travel')?.value, a.fitToTravelAssessedAt], show(a)).toEqual(['no', '2026-11-23'])
    const b = derive(exampleActionFlag('fit-to-travel', { value: 'yes' }), exampleFitToTravelObservation('no', '2026-11-23'))
    expect(flagOf(b, 'fit-to-travel')?.value, show(b)).toBe('no')
  })

  it('an Observation dated after now is not used yet', () => {
    const perspective = derive(exampleFitToTravelObservation('yes', '2026-11-10'), exampleFitToTravelObservation('no', '2026-11-25'))
    expect([flagOf(perspective, 'fit-to-travel')?.value, perspective.fitToTravelAssessedAt]).toEqual(['yes', '2026-11-10'])
  })

  it('the latest Observation without a readable value counts as unknown (an older yes does not stand)', () => {
    const unreadable: Observation = {
      ...exampleFitToTravelObservation('yes', '2026-11-20'),
      valueCodeableConcept: { coding: [{ system: SNOMED, code: '373066001' }], text: 'yes' },
    }
    const perspective = derive(exampleFitToTravelObservation('yes', '2026-11-01'), unreadable)
    expect([flagOf(perspective, 'fit-to-travel')?.value, perspective.fitToTravelAssessedAt], show(perspective)).toEqual([
      'unknown',
      '2026-11-20',
    ])
  })

  it('a medical-postponement value on a fit-to-travel Observation is not a fit-to-travel value', () => {
    const wrong = exampleFitToTravelObservation('yes', '2026-11-20')
    wrong.valueCodeableConcept = { coding: [{ system: PERSPECTIVE_VALUE_SYSTEM, code: 'granted' }] }
    expect(flagOf(derive(wrong), 'fit-to-travel')?.value).toBe('unknown')
  })

  it('without effective time, `issued` is the time; an unreadable time makes the Observation unusable', () => {
    const { effectiveDateTime: _e, ...untimed } = exampleFitToTravelObservation('no', '2026-11-20')
    const issued: Observation = { ...untimed, issued: '2026-11-21T09:00:00Z' }
    expect(derive(issued).fitToTravelAssessedAt).toBe('2026-11-21T09:00:00Z')
    const bad = { ...exampleFitToTravelObservation('no', '2026-11-20'), effectiveDateTime: 'last Tuesday' }
    expect(derive(bad), 'unreadable time').toEqual({ flags: [UNKNOWN_FIT] })
  })

  it('untimed Observations count only when no timed one exists', () => {
    const { effectiveDateTime: _e, ...untimed } = exampleFitToTravelObservation('no', '2026-11-20')
    const alone = derive(untimed)
    expect(alone, show(alone)).toEqual({ flags: [{ code: 'fit-to-travel', value: 'no', safetyCritical: false }] })
    const withTimed = derive(untimed, exampleFitToTravelObservation('yes', '2026-11-20'))
    expect(flagOf(withTimed, 'fit-to-travel')?.value, show(withTimed)).toBe('yes')
  })

  it('an Observation with another code gives nothing, whatever its value', () => {
    const other = exampleFitToTravelObservation('no', '2026-11-20')
    other.code = { coding: [{ system: SNOMED, code: '363788007' }], text: 'fit-to-travel' }
    expect(derive(other)).toEqual({ flags: [UNKNOWN_FIT] })
  })
})

describe('derivePerspective: medical-postponement', () => {
  it('no source gives no medical-postponement entry', () => {
    expect(codesOf(derive(exampleActionFlag('mobility-aid')))).not.toContain('medical-postponement')
  })

  it('a granted Observation runs until effectivePeriod.end', () => {
    const perspective = derive(exampleMedicalPostponementObservation('granted', '2026-10-01', { until: '2027-10-01' }))
    expect(flagOf(perspective, 'medical-postponement'), show(perspective)).toEqual({
      code: 'medical-postponement',
      value: 'granted',
      until: '2027-10-01',
      safetyCritical: false,
    })
  })

  it('a granted postponement whose until has passed is still reported as granted, with its until', () => {
    const perspective = derive(exampleMedicalPostponementObservation('granted', '2025-10-01', { until: '2026-10-01' }))
    expect(flagOf(perspective, 'medical-postponement'), show(perspective)).toMatchObject({ value: 'granted', until: '2026-10-01' })
  })

  it.each(['none', 'requested', 'rejected'] as const)('%s carries no until, even with a period end', (value) => {
    const perspective = derive(exampleMedicalPostponementObservation(value, '2026-10-01', { until: '2027-10-01' }))
    expect(flagOf(perspective, 'medical-postponement'), show(perspective)).toEqual({ code: 'medical-postponement', value, safetyCritical: false })
  })

  it('the latest Observation wins: rejected after requested gives rejected', () => {
    const perspective = derive(
      exampleMedicalPostponementObservation('requested', '2026-09-01'),
      exampleMedicalPostponementObservation('rejected', '2026-11-01'),
    )
    expect(flagOf(perspective, 'medical-postponement')?.value, show(perspective)).toBe('rejected')
  })

  const CONFLICTS: [PostponementStatus, PostponementStatus][] = [
    ['granted', 'requested'],
    ['granted', 'rejected'],
    ['granted', 'none'],
    ['requested', 'rejected'],
    ['requested', 'none'],
    ['rejected', 'none'],
  ]
  it.each(CONFLICTS)('at the same time, %s beats %s (conservative)', (winner, loser) => {
    for (const order of [
      [winner, loser],
      [loser, winner],
    ]) {
      const perspective = derive(...order.map((v) => exampleMedicalPostponementObservation(v, '2026-11-01')))
      expect(flagOf(perspective, 'medical-postponement')?.value, show(perspective)).toBe(winner)
    }
  })

  it('among grants, an open-ended one wins over a dated one, else the latest until', () => {
    const dated = exampleMedicalPostponementObservation('granted', '2026-11-01', { until: '2027-01-01' })
    const later = exampleMedicalPostponementObservation('granted', '2026-11-01', { until: '2027-06-01' })
    const open = exampleMedicalPostponementObservation('granted', '2026-11-01')
    expect(flagOf(derive(dated, later), 'medical-postponement')?.until).toBe('2027-06-01')
    expect(flagOf(derive(later, open, dated), 'medical-postponement')).toEqual({
      code: 'medical-postponement',
      value: 'granted',
      safetyCritical: false,
    })
  })

  it('a medical-postponement Observation without a readable value is ignored', () => {
    const unreadable = exampleMedicalPostponementObservation('granted', '2026-11-01')
    unreadable.valueCodeableConcept = { text: 'granted' }
    expect(codesOf(derive(unreadable))).toEqual(['fit-to-travel'])
  })

  it('an active Flag "requested" beats a newer Observation "rejected"', () => {
    const perspective = derive(
      exampleActionFlag('medical-postponement', { value: 'requested' }),
      exampleMedicalPostponementObservation('rejected', '2026-11-20'),
    )
    expect(flagOf(perspective, 'medical-postponement')?.value, show(perspective)).toBe('requested')
  })
})

describe('derivePerspective: MedicationStatements', () => {
  it.each(['active', 'intended'] as const)('a MedicationStatement with status %s gives medication-accompanies', (status) => {
    const perspective = derive(exampleMedicationStatement({ status }))
    expect(perspective.flags, show(perspective)).toEqual([UNKNOWN_FIT, { code: 'medication-accompanies', safetyCritical: false }])
  })

  it.each(['completed', 'entered-in-error', 'stopped', 'on-hold', 'unknown', 'not-taken'] as const)(
    'a MedicationStatement with status %s gives nothing',
    (status) => {
      expect(derive(exampleMedicationStatement({ status })).flags).toEqual([UNKNOWN_FIT])
    },
  )

  it('never carries the medication: name, code, dosage or reason', () => {
    const statement = {
      ...exampleMedicationStatement({ medicationText: 'Quetiapine 300 mg' }),
      medicationCodeableConcept: {
        text: 'Quetiapine 300 mg',
        coding: [{ system: 'urn:oid:2.16.840.1.113883.2.4.4.1', code: '98765', display: 'QUETIAPINE TABLET 300MG' }],
      },
      dosage: [{ text: 'twice daily, Quetiapine' }],
      reasonCode: [{ text: 'psychosis' }],
    }
    const json = JSON.stringify(derive(statement, exampleMedicationStatement({ status: 'intended', medicationText: 'Insulin' })))
    for (const secret of ['Quetiapine', 'QUETIAPINE', '98765', '300', 'psychosis', 'Insulin', '2.16.840']) {
      expect(json, secret).not.toContain(secret)
    }
    expect(JSON.parse(json)).toEqual({ flags: [UNKNOWN_FIT, { code: 'medication-accompanies', safetyCritical: false }] })
  })
})

describe('derivePerspective: zib Alert mapping', () => {
  it.each(DEFAULT_ALERT_MAPPING.map((e) => [e.code, e.label ?? '', e.actions] as const))(
    'an active zib Alert SNOMED %s (%s) gives %j',
    (code, _label, actions) => {
      const perspective = derive(exampleAlertFlag(code))
      expect(codesOf(perspective), show(perspective)).toEqual(['fit-to-travel', ...actions])
    },
  )

  it('an inactive or expired alert gives nothing', () => {
    const perspective = derive(
      { ...exampleAlertFlag('432415000'), status: 'inactive' },
      exampleAlertFlag('432415000', { period: { start: '2020-01-01', end: '2021-01-01' } }),
    )
    expect(perspective.flags, show(perspective)).toEqual([UNKNOWN_FIT])
  })

  it('an alert code that is not mapped gives nothing (e.g. HIV infection, SNOMED 86406008)', () => {
    expect(derive(exampleAlertFlag('86406008')).flags).toEqual([UNKNOWN_FIT])
  })

  it('a custom mapping replaces the default, and [] maps nothing', () => {
    const mapping = [{ system: SNOMED, code: '86406008', actions: ['contact-medical-service'] as const }]
    const custom = derivePerspective(bundleOf(exampleAlertFlag('86406008'), exampleAlertFlag('432415000')), NOW, { alertMapping: mapping })
    expect(codesOf(custom), show(custom)).toEqual(['fit-to-travel', 'contact-medical-service'])
    const none = derivePerspective(bundleOf(exampleAlertFlag('432415000')), NOW, { alertMapping: [] })
    expect(none.flags).toEqual([UNKNOWN_FIT])
  })

  it('a mapping to a valued or unknown code is ignored at run time', () => {
    const mapping = [{ system: SNOMED, code: '432415000', actions: ['fit-to-travel', 'teleport', 'mobility-aid'] }] as never
    const perspective = derivePerspective(bundleOf(exampleAlertFlag('432415000')), NOW, { alertMapping: mapping })
    expect(perspective.flags, show(perspective)).toEqual([UNKNOWN_FIT, { code: 'mobility-aid', safetyCritical: false }])
  })
})

describe('derivePerspective: safety-critical marking with a legal ground', () => {
  it.each(['legal-obligation', 'conflict-of-duties'] as const)('a safety-critical Flag marked %s carries it', (legalGround) => {
    const perspective = derive(exampleActionFlag('extra-supervision', { legalGround }))
    expect(flagOf(perspective, 'extra-supervision'), show(perspective)).toEqual({ code: 'extra-supervision', safetyCritical: true, legalGround })
  })

  it('a safety-critical Flag without the extension carries no legal ground', () => {
    expect(flagOf(derive(exampleActionFlag('hygiene-measures')), 'hygiene-measures')).toEqual({
      code: 'hygiene-measures',
      safetyCritical: true,
    })
  })

  it('a legal ground on a code that is not safety-critical is dropped', () => {
    const perspective = derive(exampleActionFlag('mobility-aid', { legalGround: 'legal-obligation' }))
    expect(flagOf(perspective, 'mobility-aid'), show(perspective)).toEqual({ code: 'mobility-aid', safetyCritical: false })
  })

  it('an unknown legal-ground code, another system, or a ground only in text gives no legal ground', () => {
    const flags = [
      [{ system: LEGAL_GROUND_SYSTEM, code: 'consent' }],
      [{ system: SNOMED, code: 'legal-obligation' }],
      [{ system: LEGAL_GROUND_SYSTEM, display: 'legal-obligation' }],
    ].map((coding) => ({
      ...exampleActionFlag('extra-supervision'),
      extension: [{ url: LEGAL_GROUND_EXTENSION, valueCodeableConcept: { coding, text: 'legal-obligation' } }],
    }))
    const perspective = derive(...flags)
    expect(flagOf(perspective, 'extra-supervision'), show(perspective)).toEqual({ code: 'extra-supervision', safetyCritical: true })
  })

  it('a legal ground applies only to codes of the Flag that carries it', () => {
    const perspective = derive(exampleActionFlag('extra-supervision', { legalGround: 'legal-obligation' }), exampleActionFlag('hygiene-measures'))
    expect(perspective.flags.slice(1), show(perspective)).toEqual([
      { code: 'extra-supervision', safetyCritical: true, legalGround: 'legal-obligation' },
      { code: 'hygiene-measures', safetyCritical: true },
    ])
  })

  it('an inactive marked Flag does not lend its ground to an active unmarked one', () => {
    const marked = { ...exampleActionFlag('extra-supervision', { legalGround: 'conflict-of-duties' }), status: 'inactive' as const }
    const perspective = derive(marked, exampleActionFlag('extra-supervision'))
    expect(flagOf(perspective, 'extra-supervision'), show(perspective)).toEqual({ code: 'extra-supervision', safetyCritical: true })
  })

  it('two Flags with one code: a ground on either marks the code; two grounds → legal-obligation', () => {
    const one = derive(exampleActionFlag('extra-supervision'), exampleActionFlag('extra-supervision', { legalGround: 'conflict-of-duties' }))
    expect(flagOf(one, 'extra-supervision')?.legalGround).toBe('conflict-of-duties')
    const two = derive(
      exampleActionFlag('extra-supervision', { legalGround: 'conflict-of-duties' }),
      exampleActionFlag('extra-supervision', { legalGround: 'legal-obligation' }),
    )
    expect(flagOf(two, 'extra-supervision')?.legalGround).toBe('legal-obligation')
  })

  it('a marked zib Alert gives its mapped safety-critical code with the ground', () => {
    const perspective = derive(exampleAlertFlag('154283005', { legalGround: 'legal-obligation' }))
    expect(flagOf(perspective, 'hygiene-measures'), show(perspective)).toEqual({
      code: 'hygiene-measures',
      safetyCritical: true,
      legalGround: 'legal-obligation',
    })
  })
})

describe('derivePerspective: determinism', () => {
  const resources: Resource[] = [
    exampleActionFlag('extra-supervision', { legalGround: 'conflict-of-duties' }),
    exampleActionFlag('mobility-aid'),
    exampleActionFlag('fit-to-travel', { value: 'conditional' }),
    exampleAlertFlag('432415000'),
    exampleFitToTravelObservation('yes', '2026-11-20T10:00:00+01:00'),
    exampleFitToTravelObservation('no', '2026-11-20T09:00:00Z'),
    exampleFitToTravelObservation('conditional', '2026-11-01'),
    exampleMedicalPostponementObservation('granted', '2026-11-01', { until: '2027-01-01' }),
    exampleMedicalPostponementObservation('granted', '2026-11-01', { until: '2027-01-01T00:00:00+01:00' }),
    exampleMedicalPostponementObservation('requested', '2026-09-01'),
    exampleMedicationStatement(),
    exampleMedicationStatement({ status: 'completed' }),
    { ...exampleActionFlag('restraints-medically-discouraged'), status: 'entered-in-error' },
  ]
  const expected = derivePerspective(bundleOf(...resources), NOW)

  it('gives the expected perspective for a mixed bundle', () => {
    expect(expected, show(expected)).toEqual({
      flags: [
        { code: 'fit-to-travel', value: 'no', safetyCritical: false },
        { code: 'medical-postponement', value: 'granted', until: '2027-01-01', safetyCritical: false },
        { code: 'medication-accompanies', safetyCritical: false },
        { code: 'extra-supervision', safetyCritical: true, legalGround: 'conflict-of-duties' },
        { code: 'hygiene-measures', safetyCritical: true },
        { code: 'mobility-aid', safetyCritical: false },
      ],
      fitToTravelAssessedAt: '2026-11-20T09:00:00Z',
    })
  })

  it('gives deep-equal output for the same input twice, without changing the input', () => {
    const bundle = bundleOf(...resources)
    const before = structuredClone(bundle)
    expect(derivePerspective(bundle, NOW)).toEqual(derivePerspective(bundle, NOW))
    expect(bundle).toEqual(before)
  })

  it('gives the same output, to the byte, for any order of the entries', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(resources, { minLength: resources.length }), (shuffled) => {
        const perspective = derivePerspective(bundleOf(...shuffled), NOW)
        expect(JSON.stringify(perspective), show(shuffled.map((r) => r.resourceType))).toBe(JSON.stringify(expected))
      }),
      { numRuns: 200 },
    )
  })
})
