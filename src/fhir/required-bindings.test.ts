import { describe, expect, it } from 'vitest'
import { expandValueSet, expansionHasCode, expansionHasCoding } from './required-bindings.js'

describe('expandValueSet', () => {
  it('expands a value set that includes a whole FHIR code system', () => {
    const genders = expandValueSet('http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1')
    expect([...(genders?.get('http://hl7.org/fhir/administrative-gender') ?? [])].sort()).toEqual(['female', 'male', 'other', 'unknown'])
  })

  it('expands a value set drawn from a FHIR code system and a v3 concept list', () => {
    const timing = expandValueSet('http://hl7.org/fhir/ValueSet/event-timing')
    expect(timing && expansionHasCode(timing, 'MORN')).toBe(true)
    expect(timing && expansionHasCode(timing, 'ACM')).toBe(true)
    expect(timing && expansionHasCode(timing, 'LUNCHTIME')).toBe(false)
  })

  it('matches Codings on system and code', () => {
    const clinical = expandValueSet('http://hl7.org/fhir/ValueSet/condition-clinical')
    const system = 'http://terminology.hl7.org/CodeSystem/condition-clinical'
    expect(clinical && expansionHasCoding(clinical, system, 'active')).toBe(true)
    expect(clinical && expansionHasCoding(clinical, 'http://snomed.info/sct', 'active')).toBe(false)
    expect(clinical && expansionHasCoding(clinical, undefined, 'active')).toBe(false)
  })

  it.each([
    ['an external code system (MIME types)', 'http://hl7.org/fhir/ValueSet/mimetypes'],
    ['an external code system (UCUM)', 'http://hl7.org/fhir/ValueSet/ucum-units'],
    ['a value set not shipped with the definitions', 'http://loinc.org/vs/LL379-9'],
  ])('gives up on %s', (_name, url) => {
    expect(expandValueSet(url)).toBeUndefined()
  })
})
