/**
 * FHIR R4 validation of incoming JSON: syntax first (`parseFhirJson`), then the resource
 * (`validateFhirResource`): structure-validator.ts (a port of @medplum/core's `validateResource`, with
 * invariant-shortcuts.ts) for structure, cardinality, types,
 * unknown elements, primitive formats and invariants on elements and the root resource, plus
 * r4-rules.ts for what medplum leaves out or gets wrong (required bindings, empty arrays/objects,
 * resource ids, dates, invariants of nested resources and of datatypes, date/quantity comparisons,
 * dom-3, Bundle fullUrl and ambiguous references).
 *
 * Every issue is an R4 OperationOutcomeIssue with severity 'error' and an `expression` (FHIRPath,
 * e.g. `Bundle.entry[2].resource.name[0].given[0]`). `diagnostics` never repeat a value from the
 * input: they name the rule and the element, not the offending content. Warnings are not returned.
 *
 * Timings (Node 20.20, 2-core container; median of 15 runs after warm-up). Input: three Synthea
 * transaction Bundles merged into one of 1.1 MB (439 entries), which validates with no issues:
 * - `warmUpFhirValidation()` (or the first call): ~0.5 s to index the R4 StructureDefinitions and
 *   read the ValueSets; the first validation of a big Bundle then takes ~0.2 s (JIT, expansions);
 * - `parseFhirJson`: ~6.5 ms (JSON.parse alone: 1.7 ms);
 * - `validateFhirResource`: ~95 ms, of which medplum's `validateResource` ~80 ms and r4-rules.ts ~15 ms.
 * These figures predate structure-validator.ts; for the ~30 KB handover bundle see "Validation cost
 * per bundle" in docs/performance.md (`npx tsx bench/validation-cost.ts`).
 */
import { OperationOutcomeError } from '@medplum/core'
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes'
import { issue } from './outcome.js'
import { loadR4Definitions } from './definitions.js'
import { findJsonSyntaxError } from './json-syntax.js'
import { NATIVE_CONSTRAINTS, checkR4Rules, isElementName, resourceSchema } from './r4-rules.js'
import { preloadRequiredBindings } from './required-bindings.js'
import { validateStructure } from './structure-validator.js'

export type ParseFhirJsonResult = { ok: true; value: unknown } | { ok: false; issues: OperationOutcomeIssue[] }

const ISSUE_LINE = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line'
const ISSUE_COL = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col'

/**
 * Parses FHIR JSON strictly: RFC 8259 syntax (no comments, no trailing commas or content), no
 * duplicate property names, at most 100 levels of nesting, and a JSON object at the top.
 */
export function parseFhirJson(text: string): ParseFhirJsonResult {
  const error = findJsonSyntaxError(text)
  if (error) {
    return {
      ok: false,
      issues: [
        {
          severity: 'error',
          code: 'structure',
          diagnostics: `Invalid JSON at line ${error.line}, column ${error.column}: ${error.message}`,
          extension: [
            { url: ISSUE_LINE, valueInteger: error.line },
            { url: ISSUE_COL, valueInteger: error.column },
          ],
        },
      ],
    }
  }
  // findJsonSyntaxError accepts only what JSON.parse accepts; the native parser builds the value.
  const value: unknown = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  return { ok: true, value }
}

/** Loads the R4 definitions and ValueSets now (about 0.5 s) instead of on the first validation. */
export function warmUpFhirValidation(): void {
  loadR4Definitions()
  preloadRequiredBindings()
}

/**
 * Validates a FHIR R4 resource (a Bundle with its entries, contained resources included).
 * @returns the errors; an empty array means valid
 */
export function validateFhirResource(value: unknown): OperationOutcomeIssue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [error('structure', 'A FHIR resource must be a JSON object', 'Resource')]
  }
  const resource = value as Record<string, unknown>
  const resourceType = resource.resourceType
  if (typeof resourceType !== 'string') {
    return [error('structure', 'A resource must have a resourceType', 'Resource')]
  }
  loadR4Definitions()
  if (!resourceSchema(resourceType)) {
    return [error('structure', 'Unknown resourceType (not an R4 resource)', 'Resource')]
  }

  let issues: OperationOutcomeIssue[]
  try {
    issues = [...medplumIssues(resource as unknown as Resource), ...checkR4Rules(resource)]
  } catch {
    // e.g. a stack overflow on absurdly deep input that did not come through parseFhirJson
    return [error('processing', 'The resource could not be validated', resourceType)]
  }
  return dedupe(issues)
}

function medplumIssues(resource: Resource): OperationOutcomeIssue[] {
  let raw: OperationOutcomeIssue[]
  try {
    raw = validateStructure(resource)
  } catch (e) {
    if (!(e instanceof OperationOutcomeError)) {
      return [error('processing', 'Structural validation could not be completed', resource.resourceType)]
    }
    raw = e.outcome.issue ?? []
  }
  const issues: OperationOutcomeIssue[] = []
  for (const issue of raw) {
    if (issue.severity !== 'error' && issue.severity !== 'fatal') continue
    const mapped = fromMedplum(issue, resource.resourceType)
    if (mapped) issues.push(mapped)
  }
  return issues
}

/**
 * Rewrites a medplum issue into our shape. medplum puts its message in `details.text` and, for a few
 * messages, instance content (an unknown property name, a reference's type) in the message or in
 * `diagnostics` (an evaluation error); we keep only element paths and rule texts.
 */
function fromMedplum(issue: OperationOutcomeIssue, resourceType: string): OperationOutcomeIssue | undefined {
  const text = issue.details?.text ?? ''
  let expression = toFhirPath(issue.expression?.[0] ?? resourceType)

  if (text.startsWith('Invalid empty')) return undefined // r4-rules.ts reports every empty array and object
  if (text === 'Unknown data type' || text.startsWith('Unknown data type:')) return undefined // nested unknown resourceType: r4-rules.ts
  if (issue.code === 'invariant') {
    if (NATIVE_CONSTRAINTS.has(fhirPathOf(issue) ?? '')) return undefined // r4-rules.ts evaluates these correctly
    return error('invariant', text.replace(/^Constraint (\S+) not met: /, 'Constraint $1 failed: '), expression)
  }
  if (issue.code === 'processing') {
    return error('processing', 'An invariant could not be evaluated', expression)
  }
  const unknown = /^Invalid additional property "(.*)"$/s.exec(text)
  if (unknown) {
    // medplum's path is `<parent>.<key>`; a key that is not name-like is instance content, so point at the parent
    const key = unknown[1] ?? ''
    const raw = issue.expression?.[0] ?? ''
    if (!isElementName(key) || !raw.endsWith(`.${key}`)) {
      expression = raw.endsWith(`.${key}`) ? toFhirPath(raw.slice(0, raw.length - key.length - 1)) : resourceType
    }
    return error('structure', 'Unknown element', expression)
  }
  if (text === 'Missing required property') return error('required', 'Missing required element', expression)
  const known = MEDPLUM_MESSAGES.find(([pattern]) => pattern.test(text))
  if (known) return error(known[1], text, expression)
  return error(issue.code === 'invalid' ? 'invalid' : 'structure', 'Structural error', expression)
}

/** medplum messages that carry no instance content, with the issue code we give them. */
const MEDPLUM_MESSAGES: [RegExp, OperationOutcomeIssue['code']][] = [
  [/^Invalid JSON type: (expected \w+, but got \w+|[\w:/.]+ is not a valid FHIR type)$/, 'structure'],
  [/^Invalid \w+ format$/, 'value'],
  [/^String must contain non-whitespace content$/, 'value'],
  [/^String cannot be larger than 1 MB$/, 'value'],
  [/^Invalid numeric value$/, 'value'],
  [/^Expected number to be (an integer|positive|non-negative)$/, 'value'],
  [/^Expected (array of values|single value) for property$/, 'structure'],
  [/^Invalid (null|undefined) value$/, 'structure'],
  [/^Invalid number of values: expected \d+\.\.(\d+|\*), but found \d+$/, 'structure'],
  [/^Value did not match expected pattern$/, 'value'],
  [/^Incorrect number of values provided for slice '[\w\-]+': expected \d+\.\.(\d+|\*), but found \d+$/, 'structure'],
]

/** medplum puts the invariant's expression in `diagnostics` as `{"fhirpath": "..."}`. */
function fhirPathOf(issue: OperationOutcomeIssue): string | undefined {
  try {
    const data = JSON.parse(issue.diagnostics ?? '') as { fhirpath?: unknown }
    return typeof data.fhirpath === 'string' ? data.fhirpath : undefined
  } catch {
    return undefined
  }
}

/** medplum spells choice elements `value[x]`; FHIRPath uses `value`. */
function toFhirPath(path: string): string {
  return path.replaceAll('[x]', '')
}

function error(code: OperationOutcomeIssue['code'], diagnostics: string, expression: string): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, expression: [expression] }
}

/** medplum and r4-rules.ts can both flag one value (e.g. a date format); keep the first. */
function dedupe(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>()
  return issues.filter((issue) => {
    const where = issue.expression?.[0] ?? ''
    const key = issue.code === 'value' || issue.code === 'structure' ? `${issue.code}|${where}` : `${issue.code}|${where}|${issue.diagnostics}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** What a request body must be: a resource of this type, and for a Bundle at most so many entries. */
export interface ExpectedResource {
  resourceType: string
  maxEntries?: number
}

export type FhirTextCheck = { ok: true } | { ok: false; status: 400 | 422; issues: OperationOutcomeIssue[] }

/**
 * Checks a request body from its text: strict JSON (400), one object of the expected resource type
 * (400), the entry cap (422, before the costly part), valid R4 (422). Pure and synchronous: run in
 * a worker thread for large bodies (validation-pool.ts).
 */
export function checkFhirText(text: string, expected: ExpectedResource): FhirTextCheck {
  const parsed = parseFhirJson(text)
  if (!parsed.ok) return { ok: false, status: 400, issues: parsed.issues }
  const value = parsed.value as { resourceType?: unknown; entry?: unknown }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, status: 400, issues: [issue('invalid', 'The body must be a JSON object')] }
  }
  if (value.resourceType !== expected.resourceType) {
    return { ok: false, status: 400, issues: [issue('invalid', `Expected a ${expected.resourceType} resource`, ['resourceType'])] }
  }
  if (expected.maxEntries !== undefined && Array.isArray(value.entry) && value.entry.length > expected.maxEntries) {
    return {
      ok: false,
      status: 422,
      issues: [issue('too-costly', `A bundle may hold at most ${expected.maxEntries} entries; this one holds ${value.entry.length}`, ['Bundle.entry'])],
    }
  }
  const issues = validateFhirResource(value).filter((i) => i.severity === 'error' || i.severity === 'fatal')
  return issues.length > 0 ? { ok: false, status: 422, issues } : { ok: true }
}
