import fc from 'fast-check'
import type { OperationOutcomeIssue } from '@medplum/fhirtypes'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseFhirJson, validateFhirResource, warmUpFhirValidation } from './validation.js'

beforeAll(() => warmUpFhirValidation())

/** `code at expression` for each issue: what most assertions compare. */
const where = (issues: OperationOutcomeIssue[]) => issues.map((i) => `${i.code} at ${i.expression?.[0]}`)
const show = (issues: OperationOutcomeIssue[]) => JSON.stringify(issues, null, 2)

function parseErrors(text: string): OperationOutcomeIssue[] {
  const result = parseFhirJson(text)
  return result.ok ? [] : result.issues
}

describe('parseFhirJson', () => {
  it('returns the parsed value of well-formed JSON', () => {
    const result = parseFhirJson('{ "resourceType": "Patient", "active": true }')
    expect(result, JSON.stringify(result)).toEqual({ ok: true, value: { resourceType: 'Patient', active: true } })
  })

  it('reports a mismatched closing bracket as a structure error with line and column', () => {
    const issues = parseErrors('{\n  "resourceType": "Patient",\n  "name": [ { "family": "X" ]\n}')
    expect(issues.length, show(issues)).toBe(1)
    expect(issues[0]?.code, show(issues)).toBe('structure')
    expect(issues[0]?.diagnostics, show(issues)).toContain('line 3, column 29')
    expect(issues[0]?.extension?.map((e) => e.valueInteger), show(issues)).toEqual([3, 29])
  })

  it.each([
    ['a line comment', '{ "resourceType": "Patient" // note\n}'],
    ['a block comment', '{ /* note */ "resourceType": "Patient" }'],
    ['content after the document', '{ "resourceType": "Patient" } {}'],
    ['a trailing comma', '{ "resourceType": "Patient", }'],
    ['a duplicate property name', '{ "resourceType": "Patient", "active": true, "active": false }'],
    ['a duplicate property name spelled with an escape', '{ "resourceType": "Patient", "active": true, "\\u0061ctive": false }'],
    ['a single-quoted string', "{ 'resourceType': 'Patient' }"],
    ['a leading zero', '{ "resourceType": "Patient", "x": 01 }'],
    ['an unescaped control character', '{ "resourceType": "Pat\tient" }'],
    ['an unterminated string', '{ "resourceType": "Patient'],
    ['a top-level array', '[{ "resourceType": "Patient" }]'],
    ['an empty document', '  '],
    ['nesting deeper than 100 levels', '{"a":'.repeat(101) + '1' + '}'.repeat(101)],
  ])('rejects %s', (_name, text) => {
    const issues = parseErrors(text)
    expect(issues.map((i) => i.code), show(issues)).toEqual(['structure'])
  })

  it('tolerates a byte order mark', () => {
    const result = parseFhirJson('\uFEFF{ "resourceType": "Patient" }')
    expect(result.ok, JSON.stringify(result)).toBe(true)
  })

  it('never repeats document content in its message', () => {
    const issues = parseErrors('{ "resourceType": "Patient", "name": [{ "family": "Geheimnaam" } "Geheimnaam2" ] }')
    expect(issues.length, show(issues)).toBe(1)
    expect(show(issues)).not.toContain('Geheim')
  })
})

describe('validateFhirResource', () => {
  it('accepts a valid Patient', () => {
    const issues = validateFhirResource({
      resourceType: 'Patient',
      id: 'p-1.a',
      gender: 'female',
      birthDate: '1980-02-29',
      name: [{ family: 'Jansen', given: ['Anna'] }],
      identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999911120', period: { start: '2020-01-01' } }],
    })
    expect(issues, show(issues)).toEqual([])
  })

  it('gives every issue severity error, a code, diagnostics and one FHIRPath expression', () => {
    const issues = validateFhirResource({ resourceType: 'Patient', gender: 'x', name: [], foo: 1, id: 'a_b' })
    expect(issues.length, show(issues)).toBe(4)
    for (const issue of issues) {
      expect(issue.severity, show(issues)).toBe('error')
      expect(issue.code, show(issues)).toMatch(/^[a-z-]+$/)
      expect(issue.diagnostics, show(issues)).toBeTruthy()
      expect(issue.expression?.length, show(issues)).toBe(1)
    }
  })

  describe('structure and types', () => {
    it('rejects a value of the wrong JSON type', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', active: 'yes', gender: 1 })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.active', 'structure at Patient.gender'])
    })

    it('rejects an element that the resource does not define, naming it when R4 defines it elsewhere', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', status: 'active' })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.status'])
    })

    it('rejects an unknown element at its parent path when R4 defines no such name (it could be data)', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', unknownElement: true })
      expect(where(issues), show(issues)).toEqual(['structure at Patient'])
    })

    it('rejects an unknown element inside a Bundle entry at its path', () => {
      const issues = validateFhirResource({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ fullUrl: 'urn:uuid:3f5f1e52-4f4e-4e55-9a3a-3a5d3f0a7b11', resource: { resourceType: 'Patient', code: 'red' } }],
      })
      expect(where(issues), show(issues)).toEqual(['structure at Bundle.entry[0].resource.code'])
    })

    it('rejects a missing required element', () => {
      const issues = validateFhirResource({ resourceType: 'Observation', status: 'final' })
      expect(where(issues), show(issues)).toEqual(['required at Observation.code'])
    })

    it('rejects two types for one choice element', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020-01-01' })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.deceased'])
    })

    it('rejects resourceType inside a datatype', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', name: [{ resourceType: 'HumanName', family: 'X' }] })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.name[0].resourceType'])
    })

    it.each([['toString'], ['constructor'], ['__proto__']])('rejects %s, an Object.prototype name, as an unknown element', (key) => {
      const issues = parseFhirJson(`{ "resourceType": "Patient", "${key}": { "x": 1 } }`)
      const result = issues.ok ? validateFhirResource(issues.value) : issues.issues
      expect(result.map((i) => i.code), show(result)).toEqual(['structure'])
    })

    it('rejects null', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', gender: null })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.gender'])
    })

    it.each([
      ['a JSON array', []],
      ['a string', 'Patient'],
      ['an object without resourceType', { id: 'x' }],
      ['an unknown resourceType', { resourceType: 'Patiënt' }],
      ['a datatype as resourceType', { resourceType: 'HumanName' }],
      ['an abstract resourceType', { resourceType: 'DomainResource' }],
    ])('rejects %s as a resource', (_name, value) => {
      const issues = validateFhirResource(value)
      expect(where(issues), show(issues)).toEqual(['structure at Resource'])
    })

    it('rejects a nested resource of unknown type', () => {
      const issues = validateFhirResource({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: { resourceType: 'Unknown' } }],
      })
      expect(where(issues), show(issues)).toEqual(['structure at Bundle.entry[0].resource'])
    })
  })

  describe('empty values', () => {
    it('rejects an empty array', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', name: [] })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.name'])
    })

    it('rejects an empty array nested in a datatype', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', maritalStatus: { coding: [], text: 'married' } })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.maritalStatus.coding'])
    })

    it('rejects an empty object as a single element', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', meta: {} })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.meta'])
    })

    it('rejects an empty object in an array', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', name: [{}] })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.name[0]'])
    })

    it('rejects an element with nothing but an id (ele-1)', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', name: [{ id: 'n1' }] })
      expect(where(issues), show(issues)).toEqual(['invariant at Patient.name[0]'])
    })

    it('rejects an empty primitive extension object', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', gender: 'male', _gender: {} })
      expect(where(issues), show(issues)).toEqual(['structure at Patient.gender'])
    })

    it('rejects a whitespace-only string', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', name: [{ given: ['  '] }] })
      expect(where(issues), show(issues)).toEqual(['value at Patient.name[0].given[0]'])
    })

    it('accepts null placeholders in a primitive array that has extensions', () => {
      const issues = validateFhirResource({
        resourceType: 'Patient',
        name: [{ given: ['Anna', null], _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'y' }] }] }],
      })
      expect(issues, show(issues)).toEqual([])
    })
  })

  describe('primitive values', () => {
    it.each([
      ['an underscore', 'bad_id'],
      ['a space', 'bad id'],
      ['65 characters', 'a'.repeat(65)],
    ])('rejects a resource id with %s', (_name, id) => {
      const issues = validateFhirResource({ resourceType: 'Patient', id })
      expect(where(issues), show(issues)).toEqual(['value at Patient.id'])
    })

    it('accepts a resource id of 64 characters', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', id: 'A-z.0'.repeat(12) + 'abcd' })
      expect(issues, show(issues)).toEqual([])
    })

    it.each([
      ['birthDate', 'not a date'],
      ['birthDate', '2021-02-29'],
      ['birthDate', '2020-13'],
      ['deceasedDateTime', '2020-01-01T10:00:00'],
      ['deceasedDateTime', '2020-01-01T10Z'],
      ['deceasedDateTime', '2020-04-31T10:00:00Z'],
    ])('rejects %s %s', (element, value) => {
      const issues = validateFhirResource({ resourceType: 'Patient', [element]: value })
      expect(where(issues), show(issues)).toEqual([`value at Patient.${element.replace('DateTime', '')}`])
    })

    it.each([['2020'], ['2020-02'], ['2020-02-29'], ['2020-02-29T23:59:60.123+14:00']])('accepts dateTime %s', (value) => {
      const issues = validateFhirResource({ resourceType: 'Patient', deceasedDateTime: value })
      expect(issues, show(issues)).toEqual([])
    })

    it('rejects an integer beyond 32 bits', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', multipleBirthInteger: 2147483648 })
      expect(where(issues), show(issues)).toEqual(['value at Patient.multipleBirth'])
    })

    it('rejects a decimal where an integer is required', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', multipleBirthInteger: 1.5 })
      expect(where(issues), show(issues)).toEqual(['value at Patient.multipleBirth'])
    })

    it('rejects a relative Coding.system', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', maritalStatus: { coding: [{ system: 'Location!', code: 'M' }] } })
      expect(where(issues), show(issues)).toEqual(['invalid at Patient.maritalStatus.coding[0].system'])
    })
  })

  describe('invariants', () => {
    const observation = { resourceType: 'Observation', status: 'final', code: { text: 'weight' } }

    it('rejects a broken resource invariant (obs-6)', () => {
      const issues = validateFhirResource({ ...observation, valueString: 'x', dataAbsentReason: { text: 'unknown' } })
      expect(where(issues), show(issues)).toEqual(['invariant at Observation'])
      expect(issues[0]?.diagnostics, show(issues)).toContain('obs-6')
    })

    it('rejects a broken resource invariant inside a Bundle entry', () => {
      const issues = validateFhirResource({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', resource: { ...observation } },
          { fullUrl: 'urn:uuid:5b8b6e4e-6c1f-4a86-9d3c-9e0c2c8e8f11', resource: { ...observation, valueString: 'x', dataAbsentReason: { text: 'u' } } },
        ],
      })
      expect(where(issues), show(issues)).toEqual(['invariant at Bundle.entry[1].resource'])
    })

    it('rejects an Organization without name or identifier (org-1, which medplum skips)', () => {
      const issues = validateFhirResource({ resourceType: 'Organization', active: true })
      expect(where(issues), show(issues)).toEqual(['invariant at Organization'])
    })

    it('rejects a broken element invariant (pat-1)', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', contact: [{ gender: 'male' }] })
      expect(where(issues), show(issues)).toEqual(['invariant at Patient.contact[0]'])
    })

    it('rejects a broken datatype invariant (per-1: a Period ending before it starts)', () => {
      const issues = validateFhirResource({
        resourceType: 'Patient',
        identifier: [{ value: '1', period: { start: '2020-01-02', end: '2020-01-01' } }],
      })
      expect(where(issues), show(issues)).toEqual(['invariant at Patient.identifier[0].period'])
      expect(issues[0]?.diagnostics, show(issues)).toContain('per-1')
    })

    it.each([
      ['2020-01-01T10:00:00+02:00', '2020-01-01T09:30:00Z', 'valid'],
      ['2020-01-01T09:30:00Z', '2020-01-01T10:00:00+02:00', 'invalid'],
      ['2020-05-01', '2020', 'valid'],
      ['2020-05-01', '2020-05-01T00:00:00+02:00', 'valid'],
      ['2020-05-02', '2020-05-01T23:00:00Z', 'invalid'],
    ])('compares Period %s to %s as FHIRPath does (per-1): %s', (start, end, verdict) => {
      const issues = validateFhirResource({ resourceType: 'Patient', identifier: [{ value: '1', period: { start, end } }] })
      expect(issues.length === 0 ? 'valid' : 'invalid', show(issues)).toBe(verdict)
    })

    it('compares date invariants of the root resource across time zones (Task inv-1)', () => {
      const task = { resourceType: 'Task', status: 'requested', intent: 'order', authoredOn: '2024-03-31T10:00:00+02:00' }
      const valid = validateFhirResource({ ...task, lastModified: '2024-03-31T08:30:00Z' })
      expect(valid, show(valid)).toEqual([])
      const invalid = validateFhirResource({ ...task, lastModified: '2024-03-31T07:30:00Z' })
      expect(where(invalid), show(invalid)).toEqual(['invariant at Task'])
    })

    it.each([
      [{ value: 1000, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' }, { value: 2, unit: 'g', system: 'http://unitsofmeasure.org', code: 'g' }, 'valid'],
      [{ value: 5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' }, { value: 2, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' }, 'invalid'],
    ])('compares Range %j to %j only in the same unit (rng-2): %s', (low, high, verdict) => {
      const issues = validateFhirResource({ ...observation, valueRange: { low, high } })
      expect(issues.length === 0 ? 'valid' : 'invalid', show(issues)).toBe(verdict)
    })

    it('rejects a Quantity with a code but no system (qty-3)', () => {
      const issues = validateFhirResource({ ...observation, valueQuantity: { value: 70, code: 'kg' } })
      expect(where(issues), show(issues)).toEqual(['invariant at Observation.value'])
    })

    it('rejects a comparator on a SimpleQuantity (sqty-1)', () => {
      const issues = validateFhirResource({ ...observation, referenceRange: [{ low: { value: 1, comparator: '<' } }] })
      expect(where(issues), show(issues)).toEqual(['invariant at Observation.referenceRange[0].low'])
    })

    it('accepts a Reference with only an identifier (ref-1 does not apply)', () => {
      const issues = validateFhirResource({ ...observation, subject: { identifier: { system: 'urn:oid:2.16.840.1.113883.2.4.6.3', value: '1' } } })
      expect(issues, show(issues)).toEqual([])
    })

    it('rejects a local reference to a contained resource that does not exist (ref-1)', () => {
      const issues = validateFhirResource({ ...observation, subject: { reference: '#missing' } })
      expect(where(issues), show(issues)).toEqual(['invariant at Observation.subject'])
    })
  })

  describe('contained resources', () => {
    const practitioner = { resourceType: 'Practitioner', id: 'p1', name: [{ family: 'Bakker' }] }

    it('accepts a contained resource that is referenced', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', contained: [practitioner], generalPractitioner: [{ reference: '#p1' }] })
      expect(issues, show(issues)).toEqual([])
    })

    it('rejects a contained resource that nothing references (dom-3)', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', contained: [practitioner] })
      expect(where(issues), show(issues)).toEqual(['invariant at Patient.contained[0]'])
      expect(issues[0]?.diagnostics, show(issues)).toContain('dom-3')
    })

    it('accepts a contained resource that references its container', () => {
      const provenance = { resourceType: 'Provenance', id: 'prov', recorded: '2020-01-01T00:00:00Z', agent: [{ who: { display: 'x' } }], target: [{ reference: '#' }] }
      const issues = validateFhirResource({ resourceType: 'Patient', contained: [provenance] })
      expect(issues, show(issues)).toEqual([])
    })

    it('rejects a bad id and an invariant inside a contained resource', () => {
      const issues = validateFhirResource({
        resourceType: 'Patient',
        contained: [{ resourceType: 'Practitioner', id: 'p_1', name: [{ family: 'Bakker' }], gender: 'x' }],
        generalPractitioner: [{ reference: '#p_1' }],
      })
      expect(where(issues).sort(), show(issues)).toEqual(['code-invalid at Patient.contained[0].gender', 'value at Patient.contained[0].id'])
    })

    it('rejects nested contained resources (dom-2)', () => {
      const issues = validateFhirResource({
        resourceType: 'Patient',
        contained: [{ ...practitioner, contained: [{ resourceType: 'Organization', id: 'o1', name: 'X' }] }],
        generalPractitioner: [{ reference: '#p1' }],
      })
      expect(where(issues), show(issues)).toContain('invariant at Patient')
    })
  })

  describe('required bindings', () => {
    it('rejects a code outside its required value set', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', gender: 'x' })
      expect(where(issues), show(issues)).toEqual(['code-invalid at Patient.gender'])
      expect(issues[0]?.diagnostics, show(issues)).toContain('http://hl7.org/fhir/ValueSet/administrative-gender')
    })

    it('rejects a bad code in a datatype (HumanName.use)', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', name: [{ use: 'alias', family: 'X' }] })
      expect(where(issues), show(issues)).toEqual(['code-invalid at Patient.name[0].use'])
    })

    it('rejects a bad Bundle.type', () => {
      const issues = validateFhirResource({ resourceType: 'Bundle', type: 'batch-collection' })
      expect(where(issues), show(issues)).toEqual(['code-invalid at Bundle.type'])
    })

    const condition = { resourceType: 'Condition', subject: { reference: 'Patient/1' } }
    const clinical = 'http://terminology.hl7.org/CodeSystem/condition-clinical'

    it('accepts a CodeableConcept with a coding from its required value set', () => {
      const issues = validateFhirResource({ ...condition, clinicalStatus: { coding: [{ system: clinical, code: 'active' }] } })
      expect(issues, show(issues)).toEqual([])
    })

    it.each([
      ['an unknown code', { coding: [{ system: clinical, code: 'sleeping' }] }],
      ['the wrong system', { coding: [{ system: 'http://snomed.info/sct', code: 'active' }] }],
      ['only text', { text: 'active' }],
    ])('rejects a CodeableConcept with %s where the binding is required', (_name, clinicalStatus) => {
      const issues = validateFhirResource({ ...condition, clinicalStatus })
      expect(where(issues), show(issues)).toEqual(['code-invalid at Condition.clinicalStatus'])
    })

    it('skips bindings whose value set cannot be expanded locally (MIME types)', () => {
      const issues = validateFhirResource({ resourceType: 'Patient', photo: [{ contentType: 'image/x-something-new', url: 'http://example.org/p.png' }] })
      expect(issues, show(issues)).toEqual([])
    })

    it('checks a value set drawn from two code systems (Timing.repeat.when: FHIR and v3 codes)', () => {
      const request = (when: string[]) => ({
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { text: 'paracetamol' },
        subject: { reference: 'Patient/1' },
        dosageInstruction: [{ timing: { repeat: { when } } }],
      })
      const valid = validateFhirResource(request(['MORN', 'ACM']))
      expect(valid, show(valid)).toEqual([])
      const invalid = validateFhirResource(request(['MORN', 'LUNCHTIME']))
      expect(where(invalid), show(invalid)).toEqual(['code-invalid at MedicationRequest.dosageInstruction[0].timing.repeat.when[1]'])
    })
  })

  describe('Bundle rules', () => {
    const patient = (id: string) => ({ resourceType: 'Patient', id })

    it('rejects a relative fullUrl', () => {
      const issues = validateFhirResource({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'Patient/1', resource: patient('1') }] })
      expect(where(issues), show(issues)).toEqual(['invalid at Bundle.entry[0].fullUrl'])
    })

    it('rejects a reference that matches two entries', () => {
      const issues = validateFhirResource({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { fullUrl: 'http://example.org/fhir/Observation/o1', resource: { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/1' } } },
          { fullUrl: 'http://example.org/fhir/Patient/1', resource: { ...patient('1'), meta: { versionId: '1' } } },
          { fullUrl: 'http://example.org/fhir/Patient/1', resource: { ...patient('1'), meta: { versionId: '2' } } },
        ],
      })
      expect(where(issues), show(issues)).toEqual(['invalid at Bundle.entry[0].resource.subject.reference'])
    })

    it('accepts a versioned reference that picks one of two versions', () => {
      const issues = validateFhirResource({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { fullUrl: 'http://example.org/fhir/Observation/o1', resource: { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/1/_history/2' } } },
          { fullUrl: 'http://example.org/fhir/Patient/1', resource: { ...patient('1'), meta: { versionId: '1' } } },
          { fullUrl: 'http://example.org/fhir/Patient/1', resource: { ...patient('1'), meta: { versionId: '2' } } },
        ],
      })
      expect(issues, show(issues)).toEqual([])
    })

    it('reports issues deep inside entries with their full FHIRPath', () => {
      const issues = validateFhirResource({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [0, 1, 2].map((i) => ({
          fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${i}`,
          resource: { resourceType: 'Patient', name: [{ given: i === 2 ? [42] : ['A'] }] },
        })),
      })
      expect(where(issues), show(issues)).toEqual(['structure at Bundle.entry[2].resource.name[0].given[0]'])
    })
  })

  describe('diagnostics never contain values from the input', () => {
    it('for a fixed set of bad values', () => {
      const secret = 'Jansen-19800229'
      const surname = 'Jansen'
      const issues = validateFhirResource({
        resourceType: 'Patient',
        id: `${secret}_x`,
        gender: secret,
        birthDate: secret,
        [`${secret} x`]: secret,
        [surname]: secret,
        name: [{ given: [42], family: [secret] }],
        maritalStatus: { coding: [{ system: secret, code: secret }] },
        contained: [{ resourceType: 'Practitioner', id: secret }],
        generalPractitioner: [{ reference: `Practitioner/${secret}` }],
      })
      expect(issues.length, show(issues)).toBeGreaterThan(5)
      expect(show(issues)).not.toContain('Jansen')
    })

    it('for any string put into any checked place', () => {
      const marker = 'ÆSECRET'
      fc.assert(
        fc.property(fc.string(), fc.constantFrom('id', 'gender', 'birthDate', 'key', 'system', 'given', 'deceased'), (s, place) => {
          const value = marker + s
          const resource: Record<string, unknown> = { resourceType: 'Patient' }
          if (place === 'id') resource.id = value
          if (place === 'gender') resource.gender = value
          if (place === 'birthDate') resource.birthDate = value
          if (place === 'key') resource[value] = value
          if (place === 'system') resource.identifier = [{ system: value, value }]
          if (place === 'given') resource.name = [{ given: [value, 7] }]
          if (place === 'deceased') resource.deceasedDateTime = value
          const issues = validateFhirResource(resource)
          expect(issues.length, show(issues)).toBeGreaterThan(0)
          expect(show(issues)).not.toContain(marker)
        }),
        { numRuns: 300 },
      )
    })
  })
})
