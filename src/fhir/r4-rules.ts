/**
 * The FHIR R4 rules that @medplum/core's `validateResource` (4.5.2) leaves out, checked in one walk
 * over the JSON guided by medplum's compiled schemas:
 *
 * - required bindings on `code`, `Coding` and `CodeableConcept` elements (see required-bindings.ts);
 * - empty arrays and empty objects anywhere (https://hl7.org/fhir/R4/json.html);
 * - `Resource.id` syntax (medplum types it as a plain string), integer ranges, and the exact R4
 *   date/dateTime/instant/time syntax including calendar validity (medplum's regexes are looser);
 * - resource-level invariants of nested resources (Bundle entries, contained resources, ...):
 *   medplum evaluates the root resource's invariants only (and skips org-1 even there);
 * - datatype-level invariants (per-1, qty-3, ref-1, att-1, cpt-2, rng-2, rat-1, sqty-1, ...): medplum
 *   evaluates only the constraints listed on each element, and R4 snapshots do not repeat these;
 * - invariants that compare dates or quantities (per-1, rng-2, mdd-1, Task inv-1), evaluated in
 *   code: medplum's FHIRPath compares dateTimes as text and ignores units (NATIVE_CONSTRAINTS);
 * - dom-3 (contained resources must be referenced), which medplum skips;
 * - more than one type given for a choice element (medplum: warning only);
 * - `Coding.system` / `Identifier.system` must be absolute URIs;
 * - Bundle: `fullUrl` must be absolute, and no reference may match more than one entry
 *   (https://hl7.org/fhir/R4/bundle.html#references: "it is ambiguous which is correct").
 *
 * Deliberately not errors, because the official R4 examples break them and medplum reports them as
 * warnings at most: a reference to a resource type the element does not allow (Observation-clinical-
 * gender: performer -> Encounter), and a RESTful fullUrl that disagrees with the entry's type/id
 * (three example Bundles).
 *
 * Messages never contain instance values: only element paths, rule keys and spec-defined text.
 */
import type { InternalSchemaElement, InternalTypeSchema, TypedValue } from '@medplum/core'
import { evalFhirPathTyped, getAllDataTypes, isPrimitiveType, isResourceTypeSchema, parseFhirPath, tryGetDataType } from '@medplum/core'
import type { OperationOutcomeIssue } from '@medplum/fhirtypes'
import { holdsCertainly } from './invariant-shortcuts.js'
import { expandValueSet, expansionHasCode, expansionHasCoding } from './required-bindings.js'

type IssueCode = OperationOutcomeIssue['code']
type JsonObject = Record<string, unknown>
type FhirPathAtom = ReturnType<typeof parseFhirPath>

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/'
const SIMPLE_QUANTITY = HL7_SD + 'SimpleQuantity'
const MONEY_QUANTITY = HL7_SD + 'MoneyQuantity'
const UCUM = 'http://unitsofmeasure.org'

/**
 * Invariants not evaluated here: ele-1 (checked directly: empty objects, or only an `id`), dom-3 (checked directly,
 * it needs descendants()), sdf-19 (about FHIR's own definitions), and invariants medplum already
 * evaluates on every element.
 */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'sdf-19'])

const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:/
const DATE = /^(\d{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$/
const DATE_TIME =
  /^(\d{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01])(?:T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(?:\.\d+)?(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/
const INSTANT =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(?:\.\d+)?(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))$/
const TIME = /^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(?:\.\d+)?$/
const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

/** A relative or absolute RESTful reference: [base/]Type/id[/_history/version]. */
const RESTFUL_REFERENCE = /^(?:(.+)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/

interface ResourceFrame {
  /** '#…' values of Reference.reference / canonical / uri / url anywhere in the resource, contained ones included */
  localReferences: Set<string>
  /** the other Reference.reference values, for resolution inside a Bundle */
  references: { reference: string; path: string }[]
}

interface Context {
  frame: ResourceFrame
  resource: TypedValue
  rootResource: TypedValue
}

interface ElementMatch {
  element: InternalSchemaElement
  /** element name as FHIRPath spells it: `value` for `value[x]` */
  name: string
  typeCode: string
  isChoice: boolean
}

/**
 * Invariants evaluated here instead of by medplum's FHIRPath engine, which compares dateTimes as
 * text (so 10:00+02:00 counts as later than 09:30Z) and Quantities without their units (so 1000 mg
 * counts as more than 2 g). Keyed by expression: keys such as inv-1 are reused across resources.
 */
export const NATIVE_CONSTRAINTS: ReadonlyMap<string, (value: JsonObject) => boolean> = new Map([
  // per-1 (Period)
  ['start.hasValue().not() or end.hasValue().not() or (start <= end)', (v: JsonObject) => notAfter(v.start, v.end)],
  // mdd-1 (MedicationDispense)
  ['whenHandedOver.empty() or whenPrepared.empty() or whenHandedOver >= whenPrepared', (v: JsonObject) => notAfter(v.whenPrepared, v.whenHandedOver)],
  // inv-1 (Task)
  ['lastModified.exists().not() or authoredOn.exists().not() or lastModified >= authoredOn', (v: JsonObject) => notAfter(v.authoredOn, v.lastModified)],
  // rng-2 (Range)
  ['low.empty() or high.empty() or (low <= high)', (v: JsonObject) => quantityNotAbove(v.low, v.high)],
])

const fhirPathCache = new Map<string, FhirPathAtom>()
const elementLookupCache = new WeakMap<InternalTypeSchema, Map<string, ElementMatch | null>>()

export function checkR4Rules(resource: JsonObject): OperationOutcomeIssue[] {
  const walker = new RulesWalker()
  walker.walkResource(resource, String(resource.resourceType), undefined, true)
  return walker.issues
}

class RulesWalker {
  readonly issues: OperationOutcomeIssue[] = []
  private readonly frames = new WeakMap<object, ResourceFrame>()

  private report(code: IssueCode, diagnostics: string, expression: string): void {
    this.issues.push({ severity: 'error', code, diagnostics, expression: [expression] })
  }

  walkResource(
    value: JsonObject,
    path: string,
    rootResource: TypedValue | undefined,
    isRoot: boolean,
  ): ResourceFrame | undefined {
    const type = value.resourceType
    if (typeof type !== 'string') {
      this.report('structure', 'A resource must have a resourceType', path)
      return undefined
    }
    const schema = resourceSchema(type)
    if (!schema) {
      this.report('structure', 'Unknown resourceType (not an R4 resource)', path)
      return undefined
    }
    const frame: ResourceFrame = { localReferences: new Set(), references: [] }
    const typed: TypedValue = { type, value }
    const context: Context = { frame, resource: typed, rootResource: rootResource ?? typed }

    if (typeof value.id === 'string' && !RESOURCE_ID.test(value.id)) {
      this.report('value', 'Resource id must be 1 to 64 characters from A-Z, a-z, 0-9, "-" and "."', `${path}.id`)
    }
    if (!isRoot) {
      // medplum evaluates the resource-level invariants of the root resource only
      this.checkConstraints(schema.constraints, undefined, typed, path, context)
    } else {
      // ... except org-1, which it skips, and those it compares wrongly (validation.ts drops its verdict)
      const missed = schema.constraints?.filter((c) => c.key === 'org-1' || NATIVE_CONSTRAINTS.has(c.expression))
      if (missed?.length) this.checkConstraints(missed, undefined, typed, path, context)
    }

    const containedReferToContainer = this.walkObject(value, schema, path, context)

    this.checkContainedAreReferenced(value, path, frame, containedReferToContainer)
    if (type === 'Bundle') this.checkBundle(value, path)
    this.frames.set(value, frame)
    return frame
  }

  /** @returns the contained resources that reference their container ('#'), for dom-3 */
  private walkObject(obj: JsonObject, schema: InternalTypeSchema, path: string, context: Context): Set<unknown> {
    const containedReferToContainer = new Set<unknown>()
    let choicesSeen: Set<string> | undefined
    const isResource = schema.kind === 'resource'

    for (const key of Object.keys(obj)) {
      const value = obj[key]
      if (key === 'resourceType') {
        if (!isResource) this.report('structure', 'Unknown element', `${path}.resourceType`)
        continue
      }
      const isPrimitiveExtension = key.startsWith('_')
      const match = lookupElement(schema, isPrimitiveExtension ? key.slice(1) : key)
      if (!match) {
        // medplum reports these too, but misses names like `toString` (it tests `key in elements`)
        this.report('structure', 'Unknown element', isElementName(key) ? `${path}.${key}` : path)
        continue
      }

      const elementPath = `${path}.${match.name}`
      if (match.isChoice && !isPrimitiveExtension) {
        choicesSeen ??= new Set()
        if (choicesSeen.has(match.name)) {
          this.report('structure', 'A choice element may have only one type', elementPath)
        }
        choicesSeen.add(match.name)
      }

      if (isPrimitiveExtension) {
        this.walkPrimitiveExtension(value, elementPath, context)
        continue
      }
      if (Array.isArray(value)) {
        if (value.length === 0) {
          this.report('structure', 'Array cannot be empty; leave the element out instead', elementPath)
          continue
        }
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i]
          const itemPath = `${elementPath}[${i}]`
          if (match.name === 'contained' && isResource && isObject(item)) {
            if (this.walkContained(item, itemPath, context)) containedReferToContainer.add(item)
          } else {
            this.walkValue(item, match, itemPath, context)
          }
        }
      } else {
        this.walkValue(value, match, elementPath, context)
      }
    }
    return containedReferToContainer
  }

  private walkContained(item: JsonObject, path: string, context: Context): boolean {
    if (Object.keys(item).length === 0) {
      this.report('structure', 'Object cannot be empty; leave the element out instead', path)
      return false
    }
    const frame = this.walkResource(item, path, context.rootResource, false)
    if (!frame) return false
    for (const reference of frame.localReferences) context.frame.localReferences.add(reference)
    context.frame.references.push(...frame.references)
    return frame.localReferences.has('#')
  }

  private walkPrimitiveExtension(value: unknown, path: string, context: Context): void {
    const element = tryGetDataType('Element')
    if (!element) return
    const walkOne = (item: unknown, itemPath: string): void => {
      if (!isObject(item)) return // null placeholders are allowed; other types are reported by medplum
      if (Object.keys(item).length === 0) {
        this.report('structure', 'Object cannot be empty; leave the element out instead', itemPath)
        return
      }
      this.walkObject(item, element, itemPath, context)
    }
    if (Array.isArray(value)) {
      if (value.length === 0) {
        this.report('structure', 'Array cannot be empty; leave the element out instead', path)
        return
      }
      value.forEach((item, i) => walkOne(item, `${path}[${i}]`))
    } else {
      walkOne(value, path)
    }
  }

  private walkValue(value: unknown, match: ElementMatch, path: string, context: Context): void {
    if (value === null || value === undefined) return // reported by medplum
    const { element, typeCode } = match

    if (isPrimitiveType(typeCode)) {
      if (typeof value !== 'object') this.checkPrimitive(value, match, path, context)
      return
    }
    if (!isObject(value)) return // wrong JSON type: reported by medplum
    if (Object.keys(value).length === 0) {
      this.report('structure', 'Object cannot be empty; leave the element out instead', path)
      return
    }
    if (typeCode === 'Resource') {
      this.walkResource(value, path, undefined, false)
      return
    }
    if (Object.keys(value).every((key) => key === 'id')) {
      this.report('invariant', 'Constraint ele-1 failed: All FHIR elements must have a @value or children', path)
      return
    }
    const schema = tryGetDataType(typeCode)
    if (!schema) return
    if (schema.kind === 'resource') {
      this.walkResource(value, path, undefined, false)
      return
    }

    const typed: TypedValue = { type: typeCode, value }
    if (schema.kind === 'complex-type') {
      const alreadyChecked = new Set((element.constraints ?? []).map((c) => c.key))
      this.checkConstraints(schema.constraints, alreadyChecked, typed, path, context)
      const profiles = element.type.find((t) => t.code === typeCode)?.profile ?? []
      for (const profile of profiles) {
        const profileType = profile === SIMPLE_QUANTITY ? 'SimpleQuantity' : profile === MONEY_QUANTITY ? 'MoneyQuantity' : undefined
        if (profileType) this.checkConstraints(tryGetDataType(profileType)?.constraints, alreadyChecked, typed, path, context)
      }
    }

    if (element.binding?.strength === 'required' && element.binding.valueSet) {
      if (typeCode === 'CodeableConcept') this.checkCodeableConceptBinding(value, element.binding.valueSet, path)
      else if (typeCode === 'Coding') this.checkCodingBinding(value, element.binding.valueSet, path)
    }
    if ((typeCode === 'Coding' || typeCode === 'Identifier') && typeof value.system === 'string' && !ABSOLUTE_URI.test(value.system)) {
      this.report('invalid', `${typeCode}.system must be an absolute URI`, `${path}.system`)
    }
    if (typeCode === 'Reference') this.checkReference(value, path, context)

    this.walkObject(value, schema, path, context)
  }

  private checkPrimitive(value: unknown, match: ElementMatch, path: string, context: Context): void {
    const { typeCode, element } = match
    if (typeof value === 'number') {
      if ((typeCode === 'integer' || typeCode === 'positiveInt' || typeCode === 'unsignedInt') && Number.isInteger(value)) {
        if (value < INT32_MIN || value > INT32_MAX) this.report('value', `Value is out of range for ${typeCode} (32 bits)`, path)
      }
      return
    }
    if (typeof value !== 'string') return

    const format = typeCode === 'date' ? DATE : typeCode === 'dateTime' ? DATE_TIME : typeCode === 'instant' ? INSTANT : undefined
    if (format) {
      const m = format.exec(value)
      if (!m || !isCalendarDate(m[1], m[2], m[3])) this.report('value', `Invalid ${typeCode} (R4 syntax, real calendar date)`, path)
    } else if (typeCode === 'time' && !TIME.test(value)) {
      this.report('value', 'Invalid time (R4 syntax)', path)
    }

    if ((typeCode === 'uri' || typeCode === 'url' || typeCode === 'canonical') && value.startsWith('#')) {
      context.frame.localReferences.add(value)
    }

    if (typeCode === 'code' && element.binding?.strength === 'required' && element.binding.valueSet) {
      const expansion = expandValueSet(element.binding.valueSet)
      if (expansion && !expansionHasCode(expansion, value)) {
        this.report('code-invalid', `Code is not in the required value set ${element.binding.valueSet}`, path)
      }
    }
  }

  private checkCodeableConceptBinding(value: JsonObject, valueSet: string, path: string): void {
    const expansion = expandValueSet(valueSet)
    if (!expansion) return
    const codings = Array.isArray(value.coding) ? value.coding : []
    const ok = codings.some((c: unknown) => isObject(c) && expansionHasCoding(expansion, asString(c.system), asString(c.code)))
    if (!ok) {
      this.report('code-invalid', `No coding from the required value set ${valueSet}`, path)
    }
  }

  private checkCodingBinding(value: JsonObject, valueSet: string, path: string): void {
    const expansion = expandValueSet(valueSet)
    if (expansion && !expansionHasCoding(expansion, asString(value.system), asString(value.code))) {
      this.report('code-invalid', `Coding is not in the required value set ${valueSet}`, path)
    }
  }

  private checkReference(value: JsonObject, path: string, context: Context): void {
    const reference = value.reference
    if (typeof reference !== 'string') return
    if (reference.startsWith('#')) {
      context.frame.localReferences.add(reference)
      return
    }
    context.frame.references.push({ reference, path: `${path}.reference` })
  }

  private checkConstraints(
    constraints: InternalTypeSchema['constraints'],
    alreadyChecked: Set<string> | undefined,
    typed: TypedValue,
    path: string,
    context: Context,
  ): void {
    if (!constraints) return
    for (const constraint of constraints) {
      if (constraint.severity !== 'error' || SKIPPED_CONSTRAINTS.has(constraint.key) || alreadyChecked?.has(constraint.key)) continue
      alreadyChecked?.add(constraint.key)
      const native = NATIVE_CONSTRAINTS.get(constraint.expression)
      if (native) {
        if (isObject(typed.value) && !native(typed.value)) {
          this.report('invariant', `Constraint ${constraint.key} failed: ${constraint.description}`, path)
        }
        continue
      }
      if (holdsCertainly(constraint.expression, typed.value, context.resource.value)) continue
      let atom = fhirPathCache.get(constraint.expression)
      if (!atom) {
        atom = parseFhirPath(constraint.expression)
        fhirPathCache.set(constraint.expression, atom)
      }
      let holds: boolean
      try {
        const result = evalFhirPathTyped(atom, [typed], {
          '%context': typed,
          '%resource': context.resource,
          '%rootResource': context.rootResource,
          '%ucum': { type: 'string', value: UCUM },
        })
        // An empty result means the invariant does not apply (e.g. ref-1 on a Reference that has only
        // an identifier), as the HL7 validator treats it; medplum would count it as a failure.
        holds = result.length === 0 || (result.length === 1 && result[0]?.value === true)
      } catch {
        this.report('processing', `Invariant ${constraint.key} could not be evaluated`, path)
        continue
      }
      if (!holds) this.report('invariant', `Constraint ${constraint.key} failed: ${constraint.description}`, path)
    }
  }

  /** dom-3: a contained resource must be referenced from the rest of the resource, or reference it ('#'). */
  private checkContainedAreReferenced(
    value: JsonObject,
    path: string,
    frame: ResourceFrame,
    containedReferToContainer: Set<unknown>,
  ): void {
    const contained = value.contained
    if (!Array.isArray(contained)) return
    contained.forEach((item: unknown, i) => {
      if (!isObject(item) || typeof item.id !== 'string') return
      if (frame.localReferences.has('#' + item.id) || containedReferToContainer.has(item)) return
      this.report(
        'invariant',
        'Constraint dom-3 failed: a contained resource must be referenced from elsewhere in the resource, or reference the containing resource',
        `${path}.contained[${i}]`,
      )
    })
  }

  private checkBundle(bundle: JsonObject, path: string): void {
    const entries = Array.isArray(bundle.entry) ? bundle.entry : []
    const byFullUrl = new Map<string, number[]>()

    entries.forEach((entry: unknown, i) => {
      if (!isObject(entry) || typeof entry.fullUrl !== 'string') return
      const fullUrl = entry.fullUrl
      const fullUrlPath = `${path}.entry[${i}].fullUrl`
      if (!ABSOLUTE_URI.test(fullUrl)) {
        this.report('invalid', 'Bundle.entry.fullUrl must be an absolute URL', fullUrlPath)
        return
      }
      const list = byFullUrl.get(fullUrl)
      if (list) list.push(i)
      else byFullUrl.set(fullUrl, [i])
    })

    // In a history bundle several entries are versions of one resource; references there are not resolved.
    if (bundle.type === 'history') return
    entries.forEach((entry: unknown) => {
      if (!isObject(entry) || !isObject(entry.resource)) return
      const frame = this.frames.get(entry.resource)
      if (!frame?.references.length) return
      const base = typeof entry.fullUrl === 'string' ? restfulBase(entry.fullUrl) : undefined
      for (const { reference, path: referencePath } of frame.references) {
        const target = resolveInBundle(reference, base)
        if (!target) continue
        let matches = byFullUrl.get(target.url) ?? []
        if (target.version !== undefined) {
          matches = matches.filter((j) => versionIdOf(entries[j]) === target.version)
        }
        if (matches.length > 1) {
          this.report('invalid', 'The reference matches more than one entry in the Bundle', referencePath)
        }
      }
    })
  }
}

function lookupElement(schema: InternalTypeSchema, key: string): ElementMatch | undefined {
  let cache = elementLookupCache.get(schema)
  if (!cache) {
    cache = new Map()
    elementLookupCache.set(schema, cache)
  }
  const cached = cache.get(key)
  if (cached !== undefined) return cached ?? undefined

  let match: ElementMatch | undefined
  const direct = Object.hasOwn(schema.elements, key) ? schema.elements[key] : undefined
  if (direct && !key.endsWith('[x]')) {
    const typeCode = direct.type[0]?.code
    if (typeCode && direct.type.length === 1) match = { element: direct, name: key, typeCode, isChoice: false }
  } else {
    for (let i = 1; i < key.length && !match; i++) {
      const c = key.charCodeAt(i)
      if (c < 65 || c > 90) continue // split before a capital letter
      const name = key.slice(0, i)
      const element = Object.hasOwn(schema.elements, name + '[x]') ? schema.elements[name + '[x]'] : undefined
      if (!element) continue
      const suffix = key.slice(i)
      const type = element.type.find((t) => capitalize(t.code) === suffix)
      if (type) match = { element, name, typeCode: type.code, isChoice: true }
    }
  }
  // Matches are bounded by the schema; misses come from the input, so only so many are kept.
  if (match || cache.size < MAX_CACHED_MISSES) cache.set(key, match ?? null)
  return match
}
const MAX_CACHED_MISSES = 2_000

let elementNames: Set<string> | undefined

/**
 * True when the key (without a leading `_`) is an element name that R4 defines somewhere. An unknown
 * key is reported at its parent's path unless it is such a name: any other key is instance content
 * (a client could send `{"Jansen": …}`) and must not appear in a message or path.
 */
export function isElementName(key: string): boolean {
  if (!elementNames) {
    const names = new Set<string>()
    for (const schema of Object.values(getAllDataTypes())) {
      for (const [name, element] of Object.entries(schema.elements)) {
        if (!name.endsWith('[x]')) names.add(name)
        else for (const type of element.type) names.add(name.slice(0, -3) + capitalize(type.code))
      }
    }
    elementNames = names
  }
  return elementNames.has(key.startsWith('_') ? key.slice(1) : key)
}

/** The schema of a concrete R4 resource type, or undefined (also for names like `toString`). */
export function resourceSchema(name: string): InternalTypeSchema | undefined {
  const schema = Object.hasOwn(getAllDataTypes(), name) ? tryGetDataType(name) : undefined
  return schema && isResourceTypeSchema(schema) ? schema : undefined
}

function isResourceTypeName(name: string): boolean {
  return resourceSchema(name) !== undefined
}

function restfulBase(fullUrl: string): string | undefined {
  const m = RESTFUL_REFERENCE.exec(fullUrl)
  return m?.[1] && !m[4] && ABSOLUTE_URI.test(m[1]) && isResourceTypeName(m[2] as string) ? m[1] : undefined
}

/** Where a reference points inside a Bundle (https://hl7.org/fhir/R4/bundle.html#references). */
function resolveInBundle(reference: string, base: string | undefined): { url: string; version?: string } | undefined {
  if (reference.startsWith('urn:uuid:') || reference.startsWith('urn:oid:')) return { url: reference }
  const m = RESTFUL_REFERENCE.exec(reference)
  if (!m) return ABSOLUTE_URI.test(reference) ? { url: reference } : undefined
  const [, prefix, type, id, version] = m
  let url: string
  if (prefix && ABSOLUTE_URI.test(prefix)) url = `${prefix}/${type}/${id}`
  else if (!prefix && base) url = `${base}/${type}/${id}`
  else return undefined
  return version === undefined ? { url } : { url, version }
}

function versionIdOf(entry: unknown): string | undefined {
  if (!isObject(entry) || !isObject(entry.resource) || !isObject(entry.resource.meta)) return undefined
  return asString(entry.resource.meta.versionId)
}

const PARTIAL_DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?)?)?)?$/

/**
 * False only when `a` is certainly later than `b`, with FHIRPath semantics: instants with a time
 * zone compare as points in time; otherwise values compare at their common precision, and equal
 * at that precision means "unknown", which does not break an invariant. Malformed values are
 * reported by the format checks, not here.
 */
function notAfter(a: unknown, b: unknown): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return true
  const x = PARTIAL_DATE_TIME.exec(a)
  const y = PARTIAL_DATE_TIME.exec(b)
  if (!x || !y) return true
  if (x[5] && y[5]) {
    const [t, u] = [Date.parse(a), Date.parse(b)] // NaN for a leap second: then compare the parts
    if (!Number.isNaN(t) && !Number.isNaN(u)) return t <= u
  }
  for (let i = 1; i <= 4; i++) {
    const p = x[i]
    const q = y[i]
    if (p === undefined || q === undefined) return true
    if (p !== q) return p < q // same-length digit strings compare like numbers
  }
  return true
}

/** rng-2 without unit conversion: compared only when both ends have a value in the same unit. */
function quantityNotAbove(low: unknown, high: unknown): boolean {
  if (!isObject(low) || !isObject(high) || typeof low.value !== 'number' || typeof high.value !== 'number') return true
  const unit = (q: JsonObject) => (q.code !== undefined ? `${String(q.system)}|${String(q.code)}` : `unit:${String(q.unit)}`)
  return unit(low) !== unit(high) || low.value <= high.value
}

function isCalendarDate(year: string | undefined, month: string | undefined, day: string | undefined): boolean {
  if (!year || !month || !day) return true
  const y = Number(year)
  const m = Number(month)
  const daysInMonth = m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31
  return Number(day) <= daysInMonth
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
