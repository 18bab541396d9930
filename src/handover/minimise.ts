import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes'
import type { ContentExclusion } from '../access/policy.js'
import type { SensitiveCategories } from '../consent/sensitive-categories.js'
import { DOSSIER_VERSION_EXTENSION, SYSTEM } from '../fhir/systems.js'
import { walkObjects as walk } from '../fhir/walk.js'

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
  // A bundle labelled or coded into an excluded category holds excluded content in every entry.
  const { entry: _entry, ...shell } = bundle
  const whole = isExcluded(shell as Resource, exclusion, categories)
  ;(bundle.entry ?? []).forEach((entry, i) => {
    if (!entry.resource) return
    if (isExcluded(entry.resource, exclusion, categories) || (whole && entry.resource.resourceType !== 'Patient')) out.push(i)
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
  walk(resource, (o) => {
    if (typeof o.resourceType === 'string') out.push(o.resourceType)
  })
  return out
}

/**
 * The dossier as this recipient may receive it under the patient's consent. The stored bundle is
 * not touched: a new bundle is built from allow-lists.
 *
 * Left out whole:
 * - an entry holding excluded content (its own codes or security labels, or those of anything it
 *   contains, nested Bundles and Parameters included), or of an excluded resource type;
 * - every entry but the Patient when the bundle itself is labelled or coded into an excluded category;
 * - content the service cannot classify: a Binary, and an entry with an attachment's data or url;
 *   an entry with a modifier extension (its meaning cannot be checked);
 * - an entry that points at a left-out entry other than by Reference (a URL, a canonical, a
 *   modifier extension), and so on, computed once over an index (linear in the bundle).
 *
 * What is released:
 * - the bundle: id, type, timestamp, identifier (system and value), and meta with versionId,
 *   lastUpdated and the tag `content-withheld-under-consent` only; entries: fullUrl and resource only;
 * - the Patient, always, from an allow-list of identifying elements (no extensions, no contained
 *   resources, no codes beyond language);
 * - other kept resources without narratives, references' `display`, Composition section titles;
 *   references to left-out entries (relative, absolute, versioned, urn, by identifier, or
 *   conditional) become references carrying only the data-absent-reason `masked`; contained
 *   resources nothing refers to any more go; a document without its Composition is a collection.
 * The tag is set whenever the consent excludes anything for the recipient, whether or not this
 * bundle held such content, so it tells nothing about the patient.
 */
export function minimiseBundle(bundle: Bundle, exclusion: ContentExclusion, categories: SensitiveCategories): Bundle {
  const entries = bundle.entry ?? []
  const isPatient = (e: BundleEntry) => e.resource?.resourceType === 'Patient'
  const { entry: _entries, ...shell } = bundle
  const wholeBundle = isExcluded(shell as Resource, exclusion, categories)

  const left = new Set<number>()
  entries.forEach((e, i) => {
    if (isPatient(e) || !e.resource) return
    const entryModifier = ((e as { modifierExtension?: unknown[] }).modifierExtension?.length ?? 0) > 0
    if (wholeBundle || entryModifier || isExcluded(e.resource, exclusion, categories) || unclassifiable(e.resource)) left.add(i)
  })
  // Closure: entries pointing at left-out ones other than by Reference go too; one pass over an index.
  const keys = entries.map((e) => keysOfEntry(e))
  const pointedBy = new Map<string, number[]>()
  entries.forEach((e, i) => {
    if (isPatient(e) || left.has(i) || !e.resource) return
    for (const key of strongPointers(e.resource)) {
      const list = pointedBy.get(key)
      if (list) list.push(i)
      else pointedBy.set(key, [i])
    }
  })
  const queue = [...left]
  const expanded = new Set<string>()
  while (queue.length > 0) {
    const j = queue.pop()!
    for (const key of keys[j]!.all) {
      // Each key's list is walked once, however many left-out entries share it.
      if (expanded.has(key)) continue
      expanded.add(key)
      for (const i of pointedBy.get(key) ?? []) {
        if (!left.has(i)) {
          left.add(i)
          queue.push(i)
        }
      }
    }
  }

  const targets = new Set<string>()
  const identifiers = new Set<string>()
  for (const j of left) {
    for (const k of keys[j]!.refs) targets.add(k)
    for (const k of keys[j]!.identifiers) identifiers.add(k)
  }
  const ctx: Left = { targets, identifiers }

  const kept: BundleEntry[] = []
  entries.forEach((entry, i) => {
    if (left.has(i) || !entry.resource) return
    let resource = isPatient(entry) ? patientAllowList(entry.resource) : entry.resource
    resource = scrub(resource, ctx) as Resource
    resource = withoutOrphanContained(resource)
    if (resource.resourceType === 'Composition') resource = withoutSectionTitles(resource)
    kept.push({ ...(entry.fullUrl ? { fullUrl: entry.fullUrl } : {}), resource })
  })

  const dossierVersion = bundle.meta?.extension?.find((e) => e.url === DOSSIER_VERSION_EXTENSION && typeof e.valueInteger === 'number')
  const released: Bundle = {
    resourceType: 'Bundle',
    ...(bundle.id ? { id: bundle.id } : {}),
    meta: {
      ...(bundle.meta?.versionId ? { versionId: bundle.meta.versionId } : {}),
      ...(bundle.meta?.lastUpdated ? { lastUpdated: bundle.meta.lastUpdated } : {}),
      ...(dossierVersion ? { extension: [dossierVersion] } : {}),
      tag: [WITHHELD_TAG],
    },
    ...(bundle.identifier?.value ? { identifier: { ...(bundle.identifier.system ? { system: bundle.identifier.system } : {}), value: bundle.identifier.value } } : {}),
    type: bundle.type,
    ...(bundle.timestamp ? { timestamp: bundle.timestamp } : {}),
    ...(kept.length > 0 ? { entry: kept } : {}),
  }
  // A document begins with its Composition; without it, what remains is a collection.
  if (released.type === 'document' && released.entry?.[0]?.resource?.resourceType !== 'Composition') released.type = 'collection'
  return released
}

/** Content the service cannot look into: binary data, attachments, and modifier extensions it cannot weigh. */
function unclassifiable(resource: Resource): boolean {
  if (resource.resourceType === 'Binary') return true
  let found = false
  walk(resource, (o) => {
    if (Array.isArray(o.modifierExtension) && o.modifierExtension.length > 0) found = true
    // Base64 content of any kind (Attachment.data, Signature.data, valueBase64Binary).
    if (typeof o.data === 'string' || typeof o.valueBase64Binary === 'string') found = true
    // An Attachment by url: an object with a url that is no Extension (those have a value or extensions).
    if (typeof o.url === 'string' && !('extension' in o) && !Object.keys(o).some((k) => k.startsWith('value'))) found = true
  })
  return found
}

interface EntryKeys {
  /** The forms a reference to the entry takes. */
  refs: string[]
  /** Its identifiers, as system|value and |value. */
  identifiers: string[]
  all: string[]
}

function keysOfEntry(entry: BundleEntry): EntryKeys {
  const refs: string[] = []
  if (entry.fullUrl) {
    const v = normaliseReference(entry.fullUrl)
    refs.push(v)
    const tail = typeIdTail(v)
    if (tail) refs.push(tail)
  }
  const r = entry.resource as (Resource & { identifier?: unknown }) | undefined
  if (r?.id) refs.push(`${r.resourceType}/${r.id}`)
  const identifiers = new Set<string>()
  const ids = Array.isArray(r?.identifier) ? r.identifier : r?.identifier ? [r.identifier] : []
  for (const id of ids as { system?: unknown; value?: unknown }[]) {
    if (typeof id?.value !== 'string') continue
    identifiers.add(`${typeof id.system === 'string' ? normaliseSystem(id.system) : ''}|${id.value}`)
    identifiers.add(`|${id.value}`)
  }
  return { refs, identifiers: [...identifiers], all: [...new Set([...refs, ...identifiers])] }
}

/** Keys of what a resource points at other than by a Reference: any string, and identifiers inside modifier extensions. */
function strongPointers(resource: Resource): Set<string> {
  const out = new Set<string>()
  const stack: { node: unknown; inReference: boolean }[] = [{ node: resource, inReference: false }]
  while (stack.length > 0) {
    const { node, inReference } = stack.pop()!
    if (typeof node === 'string') {
      if (inReference) continue
      const v = normaliseReference(node)
      out.add(v)
      const tail = typeIdTail(v)
      if (tail) out.add(tail)
      continue
    }
    if (node === null || typeof node !== 'object') continue
    if (Array.isArray(node)) {
      for (const item of node) stack.push({ node: item, inReference })
      continue
    }
    const o = node as Record<string, unknown>
    const reference = isReference(o)
    for (const [key, value] of Object.entries(o)) {
      if (key === 'resourceType' || key === 'id') continue
      stack.push({ node: value, inReference: reference && (key === 'reference' || key === 'identifier' || key === 'display' || key === 'type') })
    }
  }
  return out
}

/** A reference or URL as compared: urns without regard to case, no fragment, no trailing slash, no history (linear). */
/** An identifier system as compared: no case, no trailing slash. */
function normaliseSystem(system: string): string {
  let v = system.trim().toLowerCase()
  let end = v.length
  while (end > 0 && v.charCodeAt(end - 1) === 47) end--
  return v.slice(0, end)
}

function normaliseReference(value: string): string {
  let v = value.trim()
  if (v.length > 4096) v = v.slice(0, 4096)
  if (v.includes('%')) {
    try {
      v = decodeURIComponent(v)
    } catch {
      // Not percent-encoded after all: compared as written.
    }
  }
  // A query or an operation after the resource still names it.
  if (!v.startsWith('#')) {
    const query = v.indexOf('?')
    if (query > 0) v = v.slice(0, query)
    const op = v.indexOf('/$')
    if (op > 0) v = v.slice(0, op)
  }
  if (v.slice(0, 9).toLowerCase() === 'urn:uuid:' || v.slice(0, 8).toLowerCase() === 'urn:oid:') v = v.toLowerCase()
  if (!v.startsWith('#')) {
    const hash = v.indexOf('#')
    if (hash >= 0) v = v.slice(0, hash)
  }
  let end = v.length
  while (end > 0 && v.charCodeAt(end - 1) === 47) end--
  v = v.slice(0, end)
  const history = v.lastIndexOf('/_history')
  if (history >= 0 && v.indexOf('/', history + 9 + 1) < 0) {
    v = v.slice(0, history)
    end = v.length
    while (end > 0 && v.charCodeAt(end - 1) === 47) end--
    v = v.slice(0, end)
  }
  return v
}

const TYPE_NAME = /^[A-Z][A-Za-z]{1,63}$/
const ID_VALUE = /^[A-Za-z0-9\-.]{1,64}$/

/** `Type/id` from the last two path segments, when they are shaped so. */
function typeIdTail(v: string): string | undefined {
  const last = v.lastIndexOf('/')
  if (last <= 0) return undefined
  const before = v.lastIndexOf('/', last - 1)
  const type = v.slice(before + 1, last)
  const id = v.slice(last + 1)
  return TYPE_NAME.test(type) && ID_VALUE.test(id) ? `${type}/${id}` : undefined
}

/** Whether a reference string points at one of the left-out entries. */
function pointsAt(reference: string, targets: Set<string>): boolean {
  const v = normaliseReference(reference)
  if (targets.has(v)) return true
  const tail = typeIdTail(v)
  return tail !== undefined && targets.has(tail)
}

const IDENTIFYING_SYSTEMS = new Set<string>([SYSTEM.vNummer, SYSTEM.bsn])

/**
 * The Patient as a minimised release gives it: who the person is and nothing else. Identifiers of
 * the migration chain only (V-nummer, BSN) as system and value; names as family, given and prefix;
 * gender and birth date; the city and country of addresses; telecom as system, value and use;
 * languages as BCP 47 codings; no extensions, contained resources, labels or free text. Nothing
 * here is classified, because nothing here can carry a clinical code or point at another entry.
 */
function patientAllowList(patient: Resource): Resource {
  const p = patient as unknown as Record<string, unknown>
  const list = (v: unknown) => (Array.isArray(v) ? (v as Record<string, unknown>[]).filter((x) => x !== null && typeof x === 'object') : [])
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const pick = (o: Record<string, unknown>, keys: string[]) => {
    const out: Record<string, unknown> = {}
    for (const k of keys) {
      const v = o[k]
      if (typeof v === 'string' || typeof v === 'boolean') out[k] = v
      else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) out[k] = v
    }
    return Object.keys(out).length > 0 ? out : undefined
  }
  const out: Record<string, unknown> = { resourceType: 'Patient' }
  if (str(p.id)) out.id = p.id
  const identifier = list(p.identifier)
    .filter((i) => IDENTIFYING_SYSTEMS.has(str(i.system) ?? '') && str(i.value))
    .map((i) => ({ system: i.system, value: i.value }))
  if (identifier.length > 0) out.identifier = identifier
  if (typeof p.active === 'boolean') out.active = p.active
  const name = list(p.name).map((n) => pick(n, ['use', 'family', 'given', 'prefix'])).filter(Boolean)
  if (name.length > 0) out.name = name
  // Telephone numbers and e-mail addresses only: a value shaped like anything else may say anything.
  const telecom = list(p.telecom)
    .map((t) => pick(t, ['system', 'value', 'use']))
    .filter((t): t is Record<string, unknown> => t !== undefined && typeof t.value === 'string' && /^\+?[0-9 ()-]{3,32}$|^[^\s@/]+@[^\s@/]+$/.test(t.value))
  if (telecom.length > 0) out.telecom = telecom
  if (['male', 'female', 'other', 'unknown'].includes(str(p.gender) ?? '')) out.gender = p.gender
  if (str(p.birthDate)) out.birthDate = p.birthDate
  if (typeof p.deceasedBoolean === 'boolean') out.deceasedBoolean = p.deceasedBoolean
  if (str(p.deceasedDateTime)) out.deceasedDateTime = p.deceasedDateTime
  const address = list(p.address).map((a) => pick(a, ['use', 'city', 'country'])).filter(Boolean)
  if (address.length > 0) out.address = address
  const communication = list(p.communication)
    .map((c) => {
      const coding = list((c.language as Record<string, unknown> | undefined)?.coding)
        .filter((x) => x.system === 'urn:ietf:bcp:47' && typeof x.code === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(x.code))
        .map((x) => ({ system: 'urn:ietf:bcp:47', code: x.code }))
      return coding.length > 0 ? { language: { coding }, ...(typeof c.preferred === 'boolean' ? { preferred: c.preferred } : {}) } : undefined
    })
    .filter(Boolean)
  if (communication.length > 0) out.communication = communication
  return out as unknown as Resource
}

const MASKED = () => ({ extension: [{ url: DATA_ABSENT_REASON, valueCode: 'masked' }] })

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
  return left.identifiers.has(`${typeof system === 'string' ? normaliseSystem(system) : ''}|${value}`) || (typeof system !== 'string' && left.identifiers.has(`|${value}`))
}

/** References masked or stripped of display, narratives gone, throughout a kept resource. */
function scrub(node: unknown, left: Left): unknown {
  if (Array.isArray(node)) return node.map((item) => scrub(item, left))
  if (node === null || typeof node !== 'object') return node
  const o = node as Record<string, unknown>
  if (isReference(o)) {
    const ref = typeof o.reference === 'string' ? o.reference : undefined
    if (ref !== undefined && ref.startsWith('#')) {
      const { display: _d, _display: _dd, identifier: _i, ...rest } = o
      return scrubFields(rest, left)
    }
    if ((ref !== undefined && (pointsAt(ref, left.targets) || ref.includes('?'))) || identifierIsLeft(o.identifier, left)) return MASKED()
    const { display: _display, _display: _dd, ...rest } = o
    if (rest.reference === undefined && rest.identifier === undefined) return MASKED()
    return scrubFields(rest, left)
  }
  return scrubFields(o, left)
}

function scrubFields(o: Record<string, unknown>, left: Left): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(o)) {
    if (key === 'text' && value !== null && typeof value === 'object' && 'div' in (value as object)) continue
    out[key] = scrub(value, left)
  }
  return out
}

/**
 * Contained resources that are still reachable (dom-3): referred to from the rest of the resource,
 * or from one that is, or referring to their container ("#"). One graph search.
 */
function withoutOrphanContained(resource: Resource): Resource {
  const r = resource as Resource & { contained?: Resource[] }
  if (!r.contained || r.contained.length === 0) return r
  const { contained, ...rest } = r
  const localRefs = (node: unknown) => {
    const out: string[] = []
    walk(node, (o) => {
      if (typeof o.reference === 'string' && o.reference.startsWith('#')) out.push(o.reference.slice(1))
    })
    return out
  }
  const byId = new Map(contained.filter((c) => typeof c.id === 'string').map((c) => [c.id!, c]))
  const edges = new Map([...byId].map(([id, c]) => [id, localRefs(c)]))
  const reachable = new Set<string>()
  const queue = [...localRefs(rest), ...[...edges].filter(([, refs]) => refs.includes('')).map(([id]) => id)]
  while (queue.length > 0) {
    const id = queue.pop()!
    if (reachable.has(id) || !byId.has(id)) continue
    reachable.add(id)
    for (const next of edges.get(id) ?? []) queue.push(next)
  }
  const kept = contained.filter((c) => c.id !== undefined && reachable.has(c.id))
  return (kept.length > 0 ? { ...rest, contained: kept } : rest) as Resource
}

const NEUTRAL_SECTION_TEXT = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">-</div>' }

/** Section titles are free text; a section left with neither entries nor sections gets a neutral text (cmp-1). */
function withoutSectionTitles(composition: Resource): Resource {
  const isMasked = (e: unknown) => e !== null && typeof e === 'object' && Object.keys(e as object).length === 1 && 'extension' in (e as object) && JSON.stringify(e).includes('"masked"')
  const fix = (sections: unknown): unknown =>
    (sections as Record<string, unknown>[]).map((section) => {
      const { title: _title, ...rest } = section
      if (rest.code && typeof rest.code === 'object') {
        const { text: _text, ...code } = rest.code as Record<string, unknown>
        if (Object.keys(code).length > 0) rest.code = code
        else delete rest.code
      }
      const entries = (rest.entry as unknown[] | undefined)?.filter((e) => !isMasked(e))
      const out: Record<string, unknown> = { ...rest }
      if (entries && entries.length > 0) out.entry = entries
      else delete out.entry
      if (Array.isArray(rest.section)) out.section = fix(rest.section)
      if (!out.entry && !out.section && !out.text) out.text = NEUTRAL_SECTION_TEXT
      return out
    })
  // The title is required and free text: a neutral one stands in.
  const c = { ...(composition as Resource & { section?: unknown[]; title?: string }), title: 'Overdrachtsdossier / Handover record' }
  return (c.section ? { ...c, section: fix(c.section) } : c) as Resource
}
