import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseFhirJson, validateFhirResource, warmUpFhirValidation } from '../src/fhir/validation.js'

// The HL7 reference validator's own R4 test cases (FHIR/fhir-test-cases, Apache-2.0): the selection
// and the reasons for leaving cases out are in test/fixtures/SOURCES.md, section hl7-validator/.
const fixtures = new URL('./fixtures/hl7-validator/', import.meta.url)

interface Expectations {
  files: Record<string, { expected: 'valid' | 'invalid'; expected_errors: string[]; module: string }>
}

const expectations = JSON.parse(readFileSync(new URL('expectations.json', fixtures), 'utf8')) as Expectations
const cases = Object.entries(expectations.files).map(([file, e]) => ({
  file,
  expected: e.expected,
  module: e.module,
  hl7Errors: e.expected_errors,
}))

describe('the HL7 reference validator cases', () => {
  beforeAll(() => warmUpFhirValidation())

  it('are all present: 63 selected cases, 40 valid and 23 invalid', () => {
    const counts = { valid: 0, invalid: 0 }
    for (const c of cases) counts[c.expected]++
    expect(counts, cases.map((c) => c.file).join(', ')).toEqual({ valid: 40, invalid: 23 })
  })

  it.each(cases)('$file ($module) is $expected, as the HL7 validator says', ({ file, expected, hl7Errors }) => {
    const text = readFileSync(new URL(file, fixtures), 'utf8')
    const parsed = parseFhirJson(text)
    const issues = parsed.ok ? validateFhirResource(parsed.value) : parsed.issues
    const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
    const verdict = errors.length > 0 ? 'invalid' : 'valid'
    const context = `ours: ${JSON.stringify(errors, null, 2)}\nHL7: ${JSON.stringify(hl7Errors, null, 2)}`
    expect(verdict, context).toBe(expected)
  })
})
