import { existsSync, readFileSync } from 'node:fs'
import type { CodeSystem, OperationOutcomeIssue } from '@medplum/fhirtypes'
import { beforeAll, describe, expect, it } from 'vitest'
import { validateFhirResource, warmUpFhirValidation } from '../fhir/validation.js'
import {
  ACTION_CODES,
  AUDIENCES,
  FIT_TO_TRAVEL_VALUES,
  HANDELINGSPERSPECTIEF_SYSTEM,
  LEGAL_GROUND_SYSTEM,
  LEGAL_GROUNDS,
  PERSPECTIVE_VALUE_SYSTEM,
  POSTPONEMENT_VALUES,
  VALUE_VOCABULARY,
  VOCABULARY,
  codeSystemResource,
  legalGroundCodeSystemResource,
  valueCodeSystemResource,
  type Audience,
} from './vocabulary.js'

beforeAll(() => warmUpFhirValidation())

const show = (value: unknown) => JSON.stringify(value, null, 2)

/** DESIGN.md section 4, copied literally. */
const DESIGN_TABLE = `
| code | meaning | regievoerder | escort | casemanager |
|---|---|---|---|---|
| \`fit-to-travel\` = yes / no / conditional / unknown | medically fit to travel | yes | yes | no |
| \`medical-postponement\` = none / requested / granted (until) / rejected | art. 64 Vw procedure | yes | no | no |
| \`medical-escort-required\` | a nurse or doctor must escort | yes | yes | no |
| \`medication-accompanies\` | medication must go along | no | yes | no |
| \`contact-medical-service\` | consult the medical service before transport | yes | yes | yes |
| \`extra-supervision\` (safety-critical) | extra supervision needed | yes | yes | yes |
| \`hygiene-measures\` (safety-critical) | infection-control measures needed | no | yes | yes |
| \`mobility-aid\` | a mobility aid is needed | no | yes | yes |
| \`restraints-medically-discouraged\` | restraints are medically discouraged | no | yes | no |
`

interface Row {
  code: string
  values: string[]
  safetyCritical: boolean
  cells: Record<Audience, 'yes' | 'no'>
}

function parseTable(markdown: string): Row[] {
  const lines = markdown.split('\n').filter((l) => l.startsWith('| `'))
  return lines.map((line) => {
    const [codeCell = '', , regievoerder, escort, casemanager] = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim())
    const code = /`([a-z-]+)`/.exec(codeCell)?.[1] ?? ''
    const values = (codeCell.split('=')[1] ?? '')
      .split('/')
      .map((v) => v.replace(/\(.*\)/, '').trim())
      .filter((v) => v !== '')
    const cell = (text: string | undefined) => (text === 'yes' ? 'yes' : 'no')
    return {
      code,
      values,
      safetyCritical: codeCell.includes('(safety-critical)'),
      cells: { regievoerder: cell(regievoerder), escort: cell(escort), casemanager: cell(casemanager) },
    }
  })
}

const rows = parseTable(DESIGN_TABLE)
const cells = rows.flatMap((row) => AUDIENCES.map((audience) => [row.code, audience, row.cells[audience]] as const))

describe('the vocabulary against DESIGN section 4', () => {
  it('has exactly the nine codes of the table, in table order', () => {
    expect(ACTION_CODES, show(rows)).toEqual(rows.map((r) => r.code))
  })

  it.each(cells)('%s is visible to %s: %s', (code, audience, expected) => {
    const definition = VOCABULARY[code as keyof typeof VOCABULARY]
    expect(definition.audiences.includes(audience) ? 'yes' : 'no', show(definition)).toBe(expected)
  })

  it.each(rows.map((r) => [r.code, r.safetyCritical] as const))('%s is safety-critical: %s', (code, expected) => {
    expect(VOCABULARY[code as keyof typeof VOCABULARY].safetyCritical).toBe(expected)
  })

  it('gives fit-to-travel the values yes, no, conditional, unknown and medical-postponement none, requested, granted, rejected', () => {
    const valuesOf = (code: string) => rows.find((r) => r.code === code)?.values
    expect(FIT_TO_TRAVEL_VALUES, show(rows)).toEqual(valuesOf('fit-to-travel'))
    expect(POSTPONEMENT_VALUES, show(rows)).toEqual(valuesOf('medical-postponement'))
  })

  const design = new URL('../../../shared/DESIGN.md', import.meta.url)
  it.skipIf(!existsSync(design))('copies the table of the shared DESIGN.md literally', () => {
    const text = readFileSync(design, 'utf8')
    for (const line of DESIGN_TABLE.trim().split('\n')) expect(text, line).toContain(line)
  })
})

const errorsOf = (resource: unknown): OperationOutcomeIssue[] => validateFhirResource(resource)

describe('codeSystemResource', () => {
  const cs = codeSystemResource()

  it('is a valid R4 CodeSystem', () => {
    const issues = errorsOf(cs)
    expect(issues, show(issues)).toEqual([])
  })

  it('is active, complete, at the handelingsperspectief URL, and counts its nine concepts', () => {
    expect({ url: cs.url, status: cs.status, content: cs.content, count: cs.count, concepts: cs.concept?.length }).toEqual({
      url: HANDELINGSPERSPECTIEF_SYSTEM,
      status: 'active',
      content: 'complete',
      count: 9,
      concepts: 9,
    })
  })

  it('declares the properties audience (string) and safety-critical (boolean)', () => {
    expect(cs.property?.map((p) => [p.code, p.type])).toEqual([
      ['audience', 'string'],
      ['safety-critical', 'boolean'],
    ])
  })

  it.each(cells)('concept %s carries audience %s: %s', (code, audience, expected) => {
    const concept = cs.concept?.find((c) => c.code === code)
    const audiences = concept?.property?.filter((p) => p.code === 'audience').map((p) => p.valueString)
    expect(audiences?.includes(audience) ? 'yes' : 'no', show(concept)).toBe(expected)
  })

  it.each(rows.map((r) => [r.code, r.safetyCritical] as const))('concept %s carries safety-critical = %s', (code, expected) => {
    const concept = cs.concept?.find((c) => c.code === code)
    const flags = concept?.property?.filter((p) => p.code === 'safety-critical').map((p) => p.valueBoolean)
    expect(flags, show(concept)).toEqual([expected])
  })

  it('gives every concept an English display and a Dutch designation', () => {
    for (const concept of cs.concept ?? []) {
      expect(concept.display, show(concept)).toMatch(/\w/)
      expect(concept.designation?.map((d) => d.language), show(concept)).toEqual(['nl'])
    }
  })

  it('is a fresh object on every call', () => {
    expect(codeSystemResource()).not.toBe(codeSystemResource())
    expect(codeSystemResource()).toEqual(codeSystemResource())
  })
})

describe('the value and legal-ground CodeSystems', () => {
  it.each([
    ['value', valueCodeSystemResource(), PERSPECTIVE_VALUE_SYSTEM],
    ['legal-ground', legalGroundCodeSystemResource(), LEGAL_GROUND_SYSTEM],
  ] as [string, CodeSystem, string][])('the %s CodeSystem is valid R4, active, complete, at its URL', (_name, cs, url) => {
    const issues = errorsOf(cs)
    expect(issues, show(issues)).toEqual([])
    expect([cs.url, cs.status, cs.content, cs.count]).toEqual([url, 'active', 'complete', cs.concept?.length])
  })

  it('ties every value to the code it applies to', () => {
    const cs = valueCodeSystemResource()
    const appliesTo = cs.concept?.map((c) => [c.code, c.property?.[0]?.valueCoding?.code])
    expect(appliesTo, show(cs.concept)).toEqual([
      ...FIT_TO_TRAVEL_VALUES.map((v) => [v, 'fit-to-travel']),
      ...POSTPONEMENT_VALUES.map((v) => [v, 'medical-postponement']),
    ])
    expect(VALUE_VOCABULARY.map((v) => v.code)).toEqual([...FIT_TO_TRAVEL_VALUES, ...POSTPONEMENT_VALUES])
  })

  it('has two legal grounds: legal-obligation and conflict-of-duties', () => {
    expect(legalGroundCodeSystemResource().concept?.map((c) => c.code)).toEqual([...LEGAL_GROUNDS])
    expect(LEGAL_GROUNDS).toEqual(['legal-obligation', 'conflict-of-duties'])
  })

  it('the validator is not vacuous: a CodeSystem without status or with an unknown property type fails', () => {
    const { status: _status, ...withoutStatus } = codeSystemResource()
    expect(errorsOf(withoutStatus).length, 'without status').toBeGreaterThan(0)
    const badType = { ...codeSystemResource(), property: [{ code: 'audience', type: 'colour' }] }
    expect(errorsOf(badType).length, 'bad property type').toBeGreaterThan(0)
  })
})
