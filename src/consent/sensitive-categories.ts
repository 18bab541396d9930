import shipped from './sensitive-categories.json' with { type: 'json' }
import { walkObjects } from '../fhir/walk.js'

/** The code system of the security labels that name sensitive categories (HL7 v3 ActCode). */
export const SECURITY_LABEL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode'
const ICD10 = 'http://hl7.org/fhir/sid/icd-10'

interface CategoryData {
  code: string
  display: { nl: string; en: string }
  codes?: Record<string, Record<string, string>>
  ranges?: { system: string; from: string; to: string; display?: string }[]
  prefixes?: { system: string; prefix: string; display?: string }[]
}

export interface SensitiveCategories {
  /** The category codes (security labels) a consent may exclude. */
  readonly labels: readonly string[]
  display(label: string): { nl: string; en: string } | undefined
  /** The categories of a resource: its security labels and clinical codes, anywhere inside it. */
  classify(resource: unknown): Set<string>
}

const normaliseIcd = (code: string) => code.toUpperCase().replace(/[.\-\s]/g, '')

/**
 * Other official identifiers of the same code systems (OIDs, legacy and national URIs), so that a
 * coding cannot escape its category by the way its system is spelled. Compared after lower-casing,
 * dropping a trailing slash and reading https as http.
 */
const SYSTEM_ALIASES: Record<string, string> = {
  'urn:oid:2.16.840.1.113883.5.4': SECURITY_LABEL_SYSTEM,
  'http://hl7.org/fhir/v3/actcode': SECURITY_LABEL_SYSTEM,
  'http://terminology.hl7.org/codesystem/v3-actcode': SECURITY_LABEL_SYSTEM,
  'urn:oid:2.16.840.1.113883.6.96': 'http://snomed.info/sct',
  'http://snomed.info/sct': 'http://snomed.info/sct',
  'urn:oid:2.16.840.1.113883.6.1': 'http://loinc.org',
  'http://loinc.org': 'http://loinc.org',
  'urn:oid:2.16.840.1.113883.6.3': ICD10,
  'urn:oid:2.16.840.1.113883.6.90': ICD10,
  'http://hl7.org/fhir/sid/icd-10': ICD10,
  'http://hl7.org/fhir/sid/icd-10-nl': ICD10,
  'http://hl7.org/fhir/sid/icd-10-cm': ICD10,
  'http://hl7.org/fhir/sid/icd-10-de': ICD10,
  'urn:oid:2.16.840.1.113883.6.73': 'http://www.whocc.no/atc',
  'http://www.whocc.no/atc': 'http://www.whocc.no/atc',
  'http://hl7.org/fhir/sid/icpc-1-nl': 'http://hl7.org/fhir/sid/icpc-1-nl',
  'http://hl7.org/fhir/sid/icpc-1': 'http://hl7.org/fhir/sid/icpc-1-nl',
  'http://hl7.org/fhir/sid/icpc-2': 'http://hl7.org/fhir/sid/icpc-1-nl',
  'urn:oid:2.16.840.1.113883.2.4.4.31.1': 'http://hl7.org/fhir/sid/icpc-1-nl',
}

export function canonicalSystem(system: string): string {
  const key = system.normalize('NFKC').replace(INVISIBLE, '').toLowerCase().replace(/[?#].*$/, '').replace(/\/+$/, '').replace(/^https:/, 'http:')
  const known = SYSTEM_ALIASES[key]
  if (known) return known
  // Editions and versions of SNOMED CT (http://snomed.info/sct/11000146104/version/...), and the
  // national and clinical modifications of ICD-10 (icd-10-gm, icd-10-cm, icd10, OIDs under .6.3).
  if (key.startsWith('http://snomed.info/sct')) return 'http://snomed.info/sct'
  if (/icd-?10/.test(key) || key.startsWith('urn:oid:2.16.840.1.113883.6.3.')) return ICD10
  if (/icpc/.test(key)) return 'http://hl7.org/fhir/sid/icpc-1-nl'
  return system.trim()
}

/** Characters a code may carry without changing what it says: spaces and every format character (Cf). */
const INVISIBLE = /[\s\p{Cf}]/gu

/** A code as compared: compatibility-normalised (fullwidth letters become plain), without invisible characters. */
const cleanCode = (code: string) => code.normalize('NFKC').replace(INVISIBLE, '')

/**
 * Builds the classification from data of the shape of `sensitive-categories.json` (the shipped
 * default, or OVERDRACHT_SENSITIVE_CATEGORIES_FILE). Throws a TypeError naming what is wrong.
 */
export function sensitiveCategories(data: unknown = shipped): SensitiveCategories {
  const categories = (data as { categories?: unknown }).categories
  if (!Array.isArray(categories) || categories.length === 0) throw new TypeError('categories must be a non-empty list')
  const exact = new Map<string, Map<string, string>>() // system -> code -> category
  const icdPrefixes: { prefix: string; label: string }[] = []
  const ranges: { system: string; from: string; to: string; label: string }[] = []
  const prefixes: { system: string; prefix: string; label: string }[] = []
  const displays = new Map<string, { nl: string; en: string }>()
  const labelAliases = new Map<string, string>()
  for (const [i, raw] of categories.entries()) {
    const c = raw as CategoryData
    if (typeof c.code !== 'string' || !/^[A-Z]{2,10}$/.test(c.code)) throw new TypeError(`categories[${i}].code must be a v3 ActCode security label code`)
    if (typeof c.display?.nl !== 'string' || typeof c.display?.en !== 'string') throw new TypeError(`categories[${i}].display needs nl and en`)
    displays.set(c.code, c.display)
    for (const alias of (raw as { securityLabelAliases?: unknown }).securityLabelAliases as string[] | undefined ?? []) {
      if (typeof alias !== 'string') throw new TypeError(`categories[${i}].securityLabelAliases must be codes`)
      labelAliases.set(alias.toUpperCase(), c.code)
    }
    for (const [listed, codes] of Object.entries(c.codes ?? {})) {
      const system = canonicalSystem(listed)
      for (const code of Object.keys(codes)) {
        if (system === ICD10) icdPrefixes.push({ prefix: normaliseIcd(code), label: c.code })
        else {
          if (!exact.has(system)) exact.set(system, new Map())
          exact.get(system)!.set(code, c.code)
        }
      }
    }
    for (const r of c.ranges ?? []) {
      if (typeof r.system !== 'string' || typeof r.from !== 'string' || typeof r.to !== 'string') throw new TypeError(`categories[${i}].ranges need system, from and to`)
      ranges.push({ system: canonicalSystem(r.system), from: normaliseIcd(r.from), to: normaliseIcd(r.to), label: c.code })
    }
    for (const p of c.prefixes ?? []) {
      if (typeof p.system !== 'string' || typeof p.prefix !== 'string' || p.prefix === '') throw new TypeError(`categories[${i}].prefixes need system and prefix`)
      prefixes.push({ system: canonicalSystem(p.system), prefix: p.prefix.toUpperCase(), label: c.code })
    }
  }
  const labels = [...displays.keys()]

  const categoriesOfCoding = (rawSystem: string | undefined, rawCode: string, out: Set<string>) => {
    const code = cleanCode(rawCode)
    if (rawSystem === undefined) {
      // No system: the code is matched against every list, as it could be any of them.
      for (const s of new Set([...exact.keys(), ICD10, SECURITY_LABEL_SYSTEM, ...prefixes.map((p) => p.system), ...ranges.map((r) => r.system)])) {
        categoriesOfCoding(s, rawCode, out)
      }
      return
    }
    const system = canonicalSystem(rawSystem)
    if (system === SECURITY_LABEL_SYSTEM) {
      const upper = code.toUpperCase()
      const label = displays.has(upper) ? upper : labelAliases.get(upper)
      if (label) out.add(label)
    }
    // SNOMED CT with its term ("35489007 |Depressive disorder|") or an expression
    // ("243796009:246090004=35489007"): every concept id in it counts.
    const lookups = system === 'http://snomed.info/sct' ? [code, ...(code.match(/\d{6,18}/g) ?? [])] : [code]
    for (const lookup of lookups) {
      const label = exact.get(system)?.get(lookup)
      if (label) out.add(label)
    }
    if (system === ICD10) {
      const n = normaliseIcd(code)
      for (const p of icdPrefixes) if (n.startsWith(p.prefix)) out.add(p.label)
      const block = n.slice(0, 3)
      for (const r of ranges) if (r.system === ICD10 && block >= r.from && block <= r.to) out.add(r.label)
    } else {
      const upper = code.toUpperCase()
      for (const r of ranges) if (r.system === system && upper.slice(0, r.from.length) >= r.from && upper.slice(0, r.to.length) <= r.to) out.add(r.label)
    }
    const upper = code.toUpperCase()
    for (const p of prefixes) if (p.system === system && upper.startsWith(p.prefix)) out.add(p.label)
  }

  return {
    labels,
    display: (label) => displays.get(label),
    classify(resource) {
      const out = new Set<string>()
      walkObjects(resource, (o) => {
        if (typeof o.code === 'string' && (typeof o.system === 'string' || o.system === undefined)) {
          categoriesOfCoding(typeof o.system === 'string' ? o.system : undefined, o.code, out)
        }
      })
      return out
    },
  }
}

export const DEFAULT_SENSITIVE_CATEGORIES = sensitiveCategories()
