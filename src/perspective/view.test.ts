import { describe, expect, it } from 'vitest'
import type { DerivedFlag, DerivedPerspective } from './derive.js'
import { ACTION_CODES, VOCABULARY, type ActionCode } from './vocabulary.js'
import { audienceForRole, visibleFlags, type PerspectiveAudience } from './view.js'

const show = (value: unknown) => JSON.stringify(value, null, 2)

/** Every code once; the safety-critical ones marked with a legal ground. */
const FULL: DerivedPerspective = {
  flags: [
    { code: 'fit-to-travel', value: 'conditional', safetyCritical: false },
    { code: 'medical-postponement', value: 'granted', until: '2027-05-01', safetyCritical: false },
    { code: 'medical-escort-required', safetyCritical: false },
    { code: 'medication-accompanies', safetyCritical: false },
    { code: 'contact-medical-service', safetyCritical: false },
    { code: 'extra-supervision', safetyCritical: true, legalGround: 'conflict-of-duties' },
    { code: 'hygiene-measures', safetyCritical: true, legalGround: 'legal-obligation' },
    { code: 'mobility-aid', safetyCritical: false },
    { code: 'restraints-medically-discouraged', safetyCritical: false },
  ],
  fitToTravelAssessedAt: '2026-11-20',
}

const codes = (flags: DerivedFlag[]) => flags.map((f) => f.code)
const forAudience = (audience: 'regievoerder' | 'escort' | 'casemanager'): ActionCode[] =>
  ACTION_CODES.filter((c) => VOCABULARY[c].audiences.includes(audience))

describe('visibleFlags', () => {
  it.each([true, false])('caregivers see every code (consent %s)', (consent) => {
    expect(visibleFlags(FULL, 'caregiver', consent), show(FULL)).toEqual(FULL.flags)
  })

  it.each([
    ['regievoerder', ['fit-to-travel', 'medical-postponement', 'medical-escort-required', 'contact-medical-service', 'extra-supervision']],
    ['escort', ['fit-to-travel', 'medical-escort-required', 'medication-accompanies', 'contact-medical-service', 'extra-supervision', 'hygiene-measures', 'mobility-aid', 'restraints-medically-discouraged']],
    ['casemanager', ['contact-medical-service', 'extra-supervision', 'hygiene-measures', 'mobility-aid']],
  ] as const)('with consent, %s sees exactly the codes of its column: %j', (audience, expected) => {
    const visible = visibleFlags(FULL, audience, true)
    expect(codes(visible), show(visible)).toEqual(expected)
    expect(codes(visible)).toEqual(forAudience(audience))
  })

  it.each([
    ['regievoerder', ['extra-supervision']],
    ['escort', ['extra-supervision', 'hygiene-measures']],
    ['casemanager', ['extra-supervision', 'hygiene-measures']],
  ] as const)('without consent, %s sees only its safety-critical codes that carry a legal ground: %j', (audience, expected) => {
    const visible = visibleFlags(FULL, audience, false)
    expect(codes(visible), show(visible)).toEqual(expected)
  })

  it.each(['regievoerder', 'escort', 'casemanager'] as const)('without consent and without legal grounds, %s sees nothing', (audience) => {
    const unmarked = { flags: FULL.flags.map(({ legalGround: _g, ...flag }) => flag) }
    expect(visibleFlags(unmarked, audience, false)).toEqual([])
  })

  it('passes values and until through for the audience of the code', () => {
    const visible = visibleFlags(FULL, 'regievoerder', true)
    expect(visible.slice(0, 2), show(visible)).toEqual([
      { code: 'fit-to-travel', value: 'conditional', safetyCritical: false },
      { code: 'medical-postponement', value: 'granted', until: '2027-05-01', safetyCritical: false },
    ])
  })

  it('rebuilds entries from the allow-list: unknown fields, codes, values, grounds and forged safety flags are dropped', () => {
    const forged = {
      flags: [
        { code: 'fit-to-travel', value: 'Diagnosis X', safetyCritical: false, note: 'secret' },
        { code: 'medical-postponement', value: 'granted', until: 'until the psychosis ends', safetyCritical: false },
        { code: 'diagnosis', safetyCritical: true, legalGround: 'legal-obligation' },
        { code: 'mobility-aid', safetyCritical: true, legalGround: 'legal-obligation' },
        { code: 'extra-supervision', safetyCritical: true, legalGround: 'because of X' },
      ],
    } as unknown as DerivedPerspective
    const caregiver = visibleFlags(forged, 'caregiver', true)
    expect(caregiver, show(caregiver)).toEqual([
      { code: 'fit-to-travel', safetyCritical: false },
      { code: 'medical-postponement', value: 'granted', safetyCritical: false },
      { code: 'mobility-aid', safetyCritical: false },
      { code: 'extra-supervision', safetyCritical: true },
    ])
    expect(visibleFlags(forged, 'escort', false), 'a forged ground opens nothing').toEqual([])
  })

  it('returns new objects: changing the result leaves the perspective alone', () => {
    const copy = structuredClone(FULL)
    const visible = visibleFlags(FULL, 'caregiver', true)
    visible[0]!.value = 'no'
    expect(FULL).toEqual(copy)
  })
})

describe('audienceForRole', () => {
  it.each([
    ['caregiver', 'caregiver'],
    ['regievoerder', 'regievoerder'],
    ['escort', 'escort'],
    ['casemanager', 'casemanager'],
    ['privacy-officer', undefined],
    ['admin', undefined],
  ] as [string, PerspectiveAudience | undefined][])('role %s reads as audience %s', (role, audience) => {
    expect(audienceForRole(role)).toBe(audience)
  })
})
