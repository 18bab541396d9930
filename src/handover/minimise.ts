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
  // Every resource inside counts: contained ones, and those of a nested Bundle or Parameters.
  if (exclusion.classes.length > 0 && resourceTypesWithin(resource).some((t) => exclusion.classes.includes(t))) return true
  if (exclusion.labels.length === 0) return false
  for (const label of categories.classify(resource)) if (exclusion.labels.includes(label)) return true
  return false
}

function resourceTypesWithin(resource: unknown): string[] {
  const out: string[] = []
  const stack: unknown[] = [resource]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || typeof node !== 'object') continue
    if (Array.isArray(node)) {
      stack.push(...node)
      continue
    }
    const o = node as Record<string, unknown>
    if (typeof o.resourceType === 'string') out.push(o.resourceType)
    for (const value of Object.values(o)) if (typeof value === 'object') stack.push(value)
  }
  return out
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
  // A label on the bundle itself marks all of it: only the Patient is released then.
  const bundleLabels = (bundle.meta?.security ?? []).flatMap((c) => [...categories.classify({ coding: [c] })])
  const wholeBundle = bundleLabels.some((l) => exclusion.labels.includes(l))
  const left = new Set(
    wholeBundle ? entries.flatMap((e, i) => (e.resource?.resourceType === 'Patient' ? [] : [i])) : excludedEntries(bundle, exclusion, categories),
  )
  const targets = new Set<string>()
  const identifiers = new Set<string>()
  entries.forEach((entry, i) => {
    if (!left.has(i)) return
    if (entry.fullUrl) {
      targets.add(normaliseTarget(entry.fullUrl))
      const tail = TYPE_ID.exec(entry.fullUrl)
      if (tail) targets.add(`${tail[1]}/${tail[2]}`)
    }
    const r = entry.resource as (Resource & { identifier?: unknown }) | undefined
    if (r?.id) targets.add(`${r.resourceType}/${r.id}`)
    const ids = Array.isArray(r?.identifier) ? r.identifier : r?.identifier ? [r.identifier] : []
    for (const id of ids as { system?: string; value?: string }[]) if (id?.value) identifiers.add(`${id.system ?? ''}|${id.value}`)
  })
  const kept: BundleEntry[] = []
  entries.forEach((entry, i) => {
    if (left.has(i)) return
    const { link: _link, ...copy } = structuredClone(entry) as BundleEntry & { link?: unknown }
    if (copy.resource) copy.resource = scrub(copy.resource, { targets, identifiers }) as Resource
    kept.push(copy)
  })
  // The signature is no longer true of the copy; links may point at what was left out; the
  // bundle's own labels would say which category was withheld.
  const { signature: _signature, link: _links, ...rest } = bundle
  const { security: _security, ...meta } = { ...(bundle.meta ?? {}) }
  meta.tag = [...(meta.tag ?? []).filter((t) => t.system !== RELEASE_NOTICE_SYSTEM), WITHHELD_TAG]
  return { ...rest, meta, ...(bundle.entry ? { entry: kept } : {}) }
}

const TYPE_ID = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/

/** urn:uuid: and urn:oid: are compared without regard to case (RFC 4122 hex digits). */
const normaliseTarget = (url: string) => (/^urn:(uuid|oid):/i.test(url) ? url.toLowerCase() : url)

/** Whether a reference string points at one of the left-out entries (relative, absolute, versioned, any case of a urn). */
function pointsAt(reference: string, targets: Set<string>): boolean {
  if (targets.has(normaliseTarget(reference))) return true
  const m = TYPE_ID.exec(reference)
  return m !== null && targets.has(`${m[1]}/${m[2]}`)
}

const MASKED = () => ({ extension: [{ url: DATA_ABSENT_REASON, valueCode: 'masked' }] })

interface Left {
  targets: Set<string>
  identifiers: Set<string>
}

const isReference = (o: Record<string, unknown>) =>
  typeof o.reference === 'string' || (typeof o.display === 'string' && (o.identifier !== undefined || Object.keys(o).every((k) => k === 'display' || k === 'type' || k === 'extension')))

/**
 * Removes narratives and references' display texts, masks references to left-out entries (by
 * reference, by identifier, or conditional), and drops extensions and URL values that point at
 * them, anywhere in the resource.
 */
function scrub(node: unknown, left: Left): unknown {
  if (Array.isArray(node)) return node.map((item) => scrub(item, left)).filter((item) => item !== DROP)
  if (node === null || typeof node !== 'object') return node
  const o = node as Record<string, unknown>
  if (isReference(o)) {
    const ref = typeof o.reference === 'string' ? o.reference : undefined
    const id = o.identifier as { system?: string; value?: string } | undefined
    const byIdentifier = id?.value !== undefined && left.identifiers.has(`${id.system ?? ''}|${id.value}`)
    // A conditional reference (Type?search) cannot be resolved by a recipient and may select what was left out.
    if ((ref !== undefined && (pointsAt(ref, left.targets) || ref.includes('?'))) || byIdentifier) return MASKED()
    // A display is free text that may name what was left out; the reference or identifier stays.
    const { display: _display, ...rest } = o
    if (rest.reference === undefined && rest.identifier === undefined) return MASKED()
    return scrubFields(rest, left)
  }
  // An extension whose value points at a left-out entry goes with it.
  if (typeof o.url === 'string' && Object.entries(o).some(([k, v]) => k.startsWith('value') && typeof v === 'string' && pointsAt(v, left.targets))) return DROP
  return scrubFields(o, left)
}

const DROP = Symbol('drop')

function scrubFields(o: Record<string, unknown>, left: Left): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(o)) {
    if (key === 'text' && value !== null && typeof value === 'object' && 'div' in (value as object)) continue
    if (typeof value === 'string' && key !== 'resourceType' && key !== 'id' && pointsAt(value, left.targets)) continue
    const scrubbed = scrub(value, left)
    if (scrubbed === DROP) continue
    // An array emptied by what was dropped goes too: FHIR has no empty arrays.
    if (Array.isArray(scrubbed) && scrubbed.length === 0 && Array.isArray(value) && value.length > 0) continue
    out[key] = scrubbed
  }
  return out
}
