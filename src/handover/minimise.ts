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
 *   it contains) is left out whole; so is one whose modifier extension points at a left-out entry
 *   (it cannot be released without the modifier that changes its meaning). A bundle labelled with
 *   an excluded category releases only its Patient.
 * - The Patient is never left out: contained resources of it that hold excluded content are.
 * - A reference to a left-out entry (relative, absolute, versioned, urn, by identifier, or
 *   conditional) becomes a reference carrying only the data-absent-reason `masked`; URL strings and
 *   extensions pointing at one are dropped; what that empties is masked or dropped so the copy
 *   stays valid R4.
 * - Free text that cannot be classified goes: narratives (`text`), references' `display`,
 *   Composition section titles. A document whose Composition is left out becomes a collection.
 * - The bundle's signature, links, security labels and tags go; it is tagged
 *   `content-withheld-under-consent`. The tag is set whenever the consent excludes anything for the
 *   recipient, whether or not this bundle held such content, so it tells nothing about the patient.
 */
export function minimiseBundle(bundle: Bundle, exclusion: ContentExclusion, categories: SensitiveCategories): Bundle {
  const entries = bundle.entry ?? []
  const isPatient = (e: BundleEntry) => e.resource?.resourceType === 'Patient'
  const bundleLabels = (bundle.meta?.security ?? []).flatMap((c) => [...categories.classify({ coding: [c] })])
  const wholeBundle = bundleLabels.some((l) => exclusion.labels.includes(l))
  const left = new Set<number>()
  entries.forEach((e, i) => {
    if (isPatient(e)) return
    if (wholeBundle || (e.resource && isExcluded(e.resource, exclusion, categories))) left.add(i)
  })
  let targets = targetsOf(entries, left)
  // Entries whose modifier extensions point at what is left out go too, until nothing changes.
  for (let changed = true; changed; ) {
    changed = false
    entries.forEach((e, i) => {
      if (!left.has(i) && !isPatient(e) && modifierPointsAt(e.resource, targets)) {
        left.add(i)
        changed = true
      }
    })
    if (changed) targets = targetsOf(entries, left)
  }

  const kept: BundleEntry[] = []
  entries.forEach((entry, i) => {
    if (left.has(i)) return
    const { link: _link, ...copy } = structuredClone(entry) as BundleEntry & { link?: unknown }
    if (copy.resource) {
      let resource = copy.resource as Resource & { contained?: Resource[] }
      let local: Set<string> = targets
      if (isPatient(entry) && resource.contained) {
        // The Patient stays; what it contains that is excluded does not.
        const out = resource.contained.filter((r) => wholeBundle || isExcluded(r, exclusion, categories))
        if (out.length > 0) {
          local = new Set([...targets, ...out.flatMap((r) => (r.id ? [`#${r.id}`] : []))])
          const remaining = resource.contained.filter((r) => !out.includes(r))
          const { contained: _c, ...rest } = resource
          resource = (remaining.length > 0 ? { ...rest, contained: remaining } : rest) as Resource
        }
      }
      const scrubbed = scrub(resource, { targets: local, identifiers: targets.identifiers })
      copy.resource = (scrubbed === DROP ? { resourceType: resource.resourceType, id: resource.id } : scrubbed) as Resource
      if (copy.resource.resourceType === 'Composition') copy.resource = withoutSectionTitles(copy.resource)
    }
    kept.push(copy)
  })
  const { signature: _signature, link: _links, ...rest } = bundle
  const { security: _security, tag: _tags, ...meta } = { ...(bundle.meta ?? {}) }
  const released: Bundle = { ...rest, meta: { ...meta, tag: [WITHHELD_TAG] } }
  if (kept.length > 0) released.entry = kept
  else delete released.entry
  // A document begins with its Composition; without it, what remains is a collection.
  if (released.type === 'document' && released.entry?.[0]?.resource?.resourceType !== 'Composition') released.type = 'collection'
  return released
}

type Targets = Set<string> & { identifiers: Set<string> }

function targetsOf(entries: BundleEntry[], left: Set<number>): Targets {
  const targets = new Set<string>() as Targets
  targets.identifiers = new Set<string>()
  entries.forEach((entry, i) => {
    if (!left.has(i)) return
    if (entry.fullUrl) {
      targets.add(normaliseReference(entry.fullUrl))
      const tail = TYPE_ID.exec(normaliseReference(entry.fullUrl))
      if (tail) targets.add(`${tail[1]}/${tail[2]}`)
    }
    const r = entry.resource as (Resource & { identifier?: unknown }) | undefined
    if (r?.id) targets.add(`${r.resourceType}/${r.id}`)
    const ids = Array.isArray(r?.identifier) ? r.identifier : r?.identifier ? [r.identifier] : []
    for (const id of ids as { system?: string; value?: string }[]) {
      if (typeof id?.value !== 'string') continue
      targets.identifiers.add(`${id.system ?? ''}|${id.value}`)
      targets.identifiers.add(`|${id.value}`)
    }
  })
  return targets
}

const TYPE_ID = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/

/** A reference or URL as compared: urns without regard to case, no fragment, no trailing slash, no history. */
function normaliseReference(value: string): string {
  let v = value.trim()
  if (/^urn:(uuid|oid):/i.test(v)) v = v.toLowerCase()
  if (!v.startsWith('#')) v = v.replace(/#.*$/, '')
  v = v.replace(/\/+$/, '').replace(/\/_history(\/[^/]*)?$/, '').replace(/\/+$/, '')
  return v
}

/** Whether a reference string points at one of the left-out entries. */
function pointsAt(reference: string, targets: Set<string>): boolean {
  if (targets.has(reference)) return true
  const v = normaliseReference(reference)
  if (targets.has(v)) return true
  const m = TYPE_ID.exec(v)
  return m !== null && targets.has(`${m[1]}/${m[2]}`)
}

function modifierPointsAt(resource: unknown, targets: Targets): boolean {
  const left: Left = { targets, identifiers: targets.identifiers }
  const anyPoints = (node: unknown): boolean => {
    if (typeof node === 'string') return pointsAt(node, targets)
    if (node === null || typeof node !== 'object') return false
    if (Array.isArray(node)) return node.some(anyPoints)
    if (identifierIsLeft((node as Record<string, unknown>).identifier, left)) return true
    return Object.values(node).some(anyPoints)
  }
  const stack: unknown[] = [resource]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || typeof node !== 'object') continue
    if (Array.isArray(node)) {
      stack.push(...node)
      continue
    }
    const o = node as Record<string, unknown>
    if (Array.isArray(o.modifierExtension) && o.modifierExtension.some((m) => anyPoints((m as Record<string, unknown>) ?? {}))) return true
    for (const value of Object.values(o)) if (typeof value === 'object') stack.push(value)
  }
  return false
}

const MASKED = () => ({ extension: [{ url: DATA_ABSENT_REASON, valueCode: 'masked' }] })
const DROP = Symbol('drop')

interface Left {
  targets: Set<string>
  identifiers: Set<string>
}

const REFERENCE_KEYS = new Set(['reference', 'identifier', 'display', 'type', 'extension', 'id', '_reference', '_display', '_type'])

/** An object that is a Reference: it has a reference, or an identifier or display and nothing but Reference's elements. */
function isReference(o: Record<string, unknown>): boolean {
  if ('resourceType' in o) return false
  if (typeof o.reference === 'string') return true
  const keys = Object.keys(o)
  if (!keys.every((k) => REFERENCE_KEYS.has(k))) return false
  const id = o.identifier
  return typeof o.display === 'string' || (id !== null && typeof id === 'object' && !Array.isArray(id))
}

function identifierIsLeft(id: unknown, left: Left): boolean {
  if (id === null || typeof id !== 'object' || Array.isArray(id)) return false
  const { system, value } = id as { system?: unknown; value?: unknown }
  if (typeof value !== 'string') return false
  return left.identifiers.has(`${typeof system === 'string' ? system : ''}|${value}`) || (typeof system !== 'string' && left.identifiers.has(`|${value}`))
}

/** Scrubs one node; DROP means the node must go from its parent. */
function scrub(node: unknown, left: Left): unknown {
  if (Array.isArray(node)) {
    return node.map((item) => (typeof item === 'string' && pointsAt(item, left.targets) ? DROP : scrub(item, left))).filter((item) => item !== DROP)
  }
  if (node === null || typeof node !== 'object') return node
  const o = node as Record<string, unknown>
  if (isReference(o)) {
    const ref = typeof o.reference === 'string' ? o.reference : undefined
    if (ref !== undefined && ref.startsWith('#')) {
      // A local reference to a contained resource: kept unless that resource went; no free text.
      if (left.targets.has(ref)) return MASKED()
      const { display: _d, _display: _dd, identifier: _i, ...rest } = o
      return scrubFields(rest, left)
    }
    if ((ref !== undefined && (pointsAt(ref, left.targets) || ref.includes('?'))) || identifierIsLeft(o.identifier, left)) return MASKED()
    const { display: _display, _display: _dd, ...rest } = o
    if (rest.reference === undefined && rest.identifier === undefined) return MASKED()
    return scrubFields(rest, left)
  }
  // An Extension: a url with a value or extensions (an Attachment's url comes with neither).
  const isExtension = typeof o.url === 'string' && !('resourceType' in o) && Object.keys(o).some((k) => k.startsWith('value') || k === 'extension')
  if (isExtension && Object.entries(o).some(([k, v]) => k.startsWith('value') && typeof v === 'string' && pointsAt(v, left.targets))) return DROP
  const out = scrubFields(o, left, isExtension)
  if (isExtension && !Object.keys(out).some((k) => k.startsWith('value') || k === 'extension')) return DROP
  return out
}

function scrubFields(o: Record<string, unknown>, left: Left, isExtension = false): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(o)) {
    if (key === 'text' && value !== null && typeof value === 'object' && 'div' in (value as object)) continue
    if (typeof value === 'string' && key !== 'resourceType' && key !== 'id' && !(isExtension && key === 'url') && pointsAt(value, left.targets)) continue
    const scrubbed = scrub(value, left)
    if (scrubbed === DROP) continue
    if (Array.isArray(scrubbed) && scrubbed.length === 0 && Array.isArray(value) && value.length > 0) continue
    // An element emptied by what went is kept as masked, so a required element stays present.
    if (isEmptied(scrubbed, value)) {
      out[key] = MASKED()
      continue
    }
    out[key] = scrubbed
  }
  return out
}

const isEmptied = (after: unknown, before: unknown) =>
  after !== null && typeof after === 'object' && !Array.isArray(after) && Object.keys(after).length === 0 &&
  before !== null && typeof before === 'object' && Object.keys(before).length > 0

const NEUTRAL_SECTION_TEXT = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">-</div>' }

/** Section titles are free text; a section left with neither entries nor sections gets a neutral text (cmp-1). */
function withoutSectionTitles(composition: Resource): Resource {
  const fix = (sections: unknown): unknown =>
    (sections as Record<string, unknown>[]).map((section) => {
      const { title: _title, ...rest } = section
      const entries = (rest.entry as unknown[] | undefined)?.filter((e) => !(e !== null && typeof e === 'object' && Object.keys(e as object).length === 1 && 'extension' in (e as object) && JSON.stringify(e).includes('"masked"')))
      const out: Record<string, unknown> = { ...rest }
      if (entries && entries.length > 0) out.entry = entries
      else delete out.entry
      if (Array.isArray(rest.section)) out.section = fix(rest.section)
      if (!out.entry && !out.section && !out.text) out.text = NEUTRAL_SECTION_TEXT
      return out
    })
  const c = composition as Resource & { section?: unknown[] }
  return c.section ? ({ ...c, section: fix(c.section) } as Resource) : composition
}
