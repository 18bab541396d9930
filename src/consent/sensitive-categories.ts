import shipped from './sensitive-categories.json' with { type: 'json' }

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

const normaliseIcd = (code: string) => code.toUpperCase().replace(/\./g, '')

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
  for (const [i, raw] of categories.entries()) {
    const c = raw as CategoryData
    if (typeof c.code !== 'string' || !/^[A-Z]{2,10}$/.test(c.code)) throw new TypeError(`categories[${i}].code must be a v3 ActCode security label code`)
    if (typeof c.display?.nl !== 'string' || typeof c.display?.en !== 'string') throw new TypeError(`categories[${i}].display needs nl and en`)
    displays.set(c.code, c.display)
    for (const [system, codes] of Object.entries(c.codes ?? {})) {
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
      ranges.push({ system: r.system, from: normaliseIcd(r.from), to: normaliseIcd(r.to), label: c.code })
    }
    for (const p of c.prefixes ?? []) {
      if (typeof p.system !== 'string' || typeof p.prefix !== 'string' || p.prefix === '') throw new TypeError(`categories[${i}].prefixes need system and prefix`)
      prefixes.push({ system: p.system, prefix: p.prefix.toUpperCase(), label: c.code })
    }
  }
  const labels = [...displays.keys()]

  const categoriesOfCoding = (system: string, code: string, out: Set<string>) => {
    if (system === SECURITY_LABEL_SYSTEM && displays.has(code)) out.add(code)
    const label = exact.get(system)?.get(code)
    if (label) out.add(label)
    if (system === ICD10) {
      const n = normaliseIcd(code)
      for (const p of icdPrefixes) if (n.startsWith(p.prefix)) out.add(p.label)
      const block = n.slice(0, 3)
      for (const r of ranges) if (r.system === ICD10 && block >= r.from && block <= r.to) out.add(r.label)
    } else {
      for (const r of ranges) if (r.system === system && code >= r.from && code <= r.to) out.add(r.label)
    }
    const upper = code.toUpperCase()
    for (const p of prefixes) if (p.system === system && upper.startsWith(p.prefix)) out.add(p.label)
  }

  return {
    labels,
    display: (label) => displays.get(label),
    classify(resource) {
      const out = new Set<string>()
      // Iterative: no nesting depth can hide a code from the classification.
      const stack: unknown[] = [resource]
      while (stack.length > 0) {
        const node = stack.pop()
        if (node === null || typeof node !== 'object') continue
        if (Array.isArray(node)) {
          for (const item of node) stack.push(item)
          continue
        }
        const o = node as Record<string, unknown>
        if (typeof o.system === 'string' && typeof o.code === 'string') categoriesOfCoding(o.system, o.code.trim(), out)
        for (const value of Object.values(o)) if (typeof value === 'object') stack.push(value)
      }
      return out
    },
  }
}

export const DEFAULT_SENSITIVE_CATEGORIES = sensitiveCategories()
