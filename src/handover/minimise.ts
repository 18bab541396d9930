import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes'
import type { ContentExclusion } from '../access/policy.js'
import type { SensitiveCategories } from '../consent/sensitive-categories.js'

export const RELEASE_NOTICE_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/release-notice'
export const WITHHELD_CODE = 'content-withheld-under-consent'
const DATA_ABSENT_REASON = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason'

/** The tag a minimised release carries: content may have been withheld, never what or how much. */
export const WITHHELD_TAG = {
  system: RELEASE_NOTICE_SYSTEM,
  code: WITHHELD_CODE,
  display: 'Inhoud kan zijn weggelaten op grond van de toestemming van de patiënt / Content may be withheld under the patient\'s consent',
}

/** Which entries of a bundle fall under an exclusion (indexes), by category or resource type. */
export function excludedEntries(bundle: Bundle, exclusion: ContentExclusion, categories: SensitiveCategories): number[] {
  const out: number[] = []
  ;(bundle.entry ?? []).forEach((entry, i) => {
    if (entry.resource && isExcluded(entry.resource, exclusion, categories)) out.push(i)
  })
  return out
}

function isExcluded(resource: Resource, exclusion: ContentExclusion, categories: SensitiveCategories): boolean {
  const types = [resource.resourceType, ...(((resource as { contained?: Resource[] }).contained ?? []).map((r) => r.resourceType))]
  if (types.some((t) => exclusion.classes.includes(t))) return true
  if (exclusion.labels.length === 0) return false
  for (const label of categories.classify(resource)) if (exclusion.labels.includes(label)) return true
  return false
}

/**
 * The dossier as this recipient may receive it under the patient's consent. The stored bundle is
 * not touched: a copy is made.
 *
 * - An entry that holds excluded content (its own codes or security labels, or those of anything
 *   it contains) is left out whole.
 * - A reference to a left-out entry becomes a reference with no target, no identifier and no
 *   display, carrying only the data-absent-reason `masked`: nothing dangles, nothing tells what was there.
 * - Narratives (`text`) are removed from every resource: a generated or written summary may speak of
 *   what was left out, and cannot be minimised itself.
 * - The bundle's signature, no longer true of the copy, is removed; the bundle is tagged
 *   `content-withheld-under-consent`. The tag is set whenever the consent excludes anything for the
 *   recipient, whether or not this bundle held such content, so it tells nothing about the patient.
 */
export function minimiseBundle(bundle: Bundle, exclusion: ContentExclusion, categories: SensitiveCategories): Bundle {
  const entries = bundle.entry ?? []
  const left = new Set(excludedEntries(bundle, exclusion, categories))
  const targets = new Set<string>()
  entries.forEach((entry, i) => {
    if (!left.has(i)) return
    if (entry.fullUrl) targets.add(entry.fullUrl)
    const r = entry.resource
    if (r?.id) targets.add(`${r.resourceType}/${r.id}`)
  })
  const kept: BundleEntry[] = []
  entries.forEach((entry, i) => {
    if (left.has(i)) return
    const copy = structuredClone(entry)
    if (copy.resource) copy.resource = scrub(copy.resource, targets) as Resource
    kept.push(copy)
  })
  const { signature: _signature, ...rest } = bundle
  const meta = { ...(bundle.meta ?? {}) }
  meta.tag = [...(meta.tag ?? []).filter((t) => t.system !== RELEASE_NOTICE_SYSTEM), WITHHELD_TAG]
  return { ...rest, meta, ...(bundle.entry ? { entry: kept } : {}) }
}

/** Whether a reference string points at one of the left-out entries (relative, absolute or versioned). */
function pointsAt(reference: string, targets: Set<string>): boolean {
  if (targets.has(reference)) return true
  const m = /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(reference)
  return m !== null && targets.has(m[1]!)
}

const MASKED = () => ({ extension: [{ url: DATA_ABSENT_REASON, valueCode: 'masked' }] })

/** Removes narratives and masks references to left-out entries, anywhere in the resource. */
function scrub(node: unknown, targets: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((item) => scrub(item, targets))
  if (node === null || typeof node !== 'object') return node
  const o = node as Record<string, unknown>
  if (typeof o.reference === 'string' && pointsAt(o.reference, targets)) return MASKED()
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(o)) {
    if (key === 'text' && value !== null && typeof value === 'object' && 'div' in (value as object)) continue
    out[key] = scrub(value, targets)
  }
  return out
}
