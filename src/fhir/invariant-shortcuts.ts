/**
 * Invariants whose outcome can be told from the JSON in the common case, without running the
 * FHIRPath engine. Each shortcut answers only "certainly holds": its conditions are those under
 * which @medplum/core's FHIRPath evaluation of the expression returns exactly `[true]` and cannot
 * throw (operands of `and`, `or`, `implies` are always both evaluated there, so the conditions
 * cover both sides). In any other case the expression is evaluated as before, so no verdict changes.
 *
 * Chosen from a profile of a 30 KB collection Bundle, where these few invariants (evaluated on
 * every resource, entry and Reference) took about a third of the FHIRPath time.
 */
type JsonObject = Record<string, unknown>

/** A JSON object such as JSON.parse builds (own keys only, the plain prototype). */
function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype
}

/** The element has neither a value nor a primitive extension (`_name`): FHIRPath sees it as empty. */
function absent(o: JsonObject, name: string): boolean {
  return o[name] === undefined && o[`_${name}`] === undefined
}

/** A string value without a primitive extension: FHIRPath sees it as one string. */
function plainString(o: JsonObject, name: string): string | undefined {
  const value = o[name]
  return typeof value === 'string' && o[`_${name}`] === undefined ? value : undefined
}

/** No entry has the element (`request`, `response`); undefined when an entry is not a plain object. */
function noEntryHas(bundle: JsonObject, name: string): boolean {
  const entries = bundle.entry
  if (entries === undefined) return bundle._entry === undefined
  if (!Array.isArray(entries) || bundle._entry !== undefined) return false
  return entries.every((entry) => isPlainObject(entry) && absent(entry, name))
}

/** The set of R4 expressions handled here, keyed by their exact text (keys are reused across types). */
const SHORTCUTS: ReadonlyMap<string, (value: JsonObject, resource: unknown) => boolean> = new Map([
  // dom-2, dom-4, dom-5 (every DomainResource): navigating from an absent `contained` gives empty
  ['contained.contained.empty()', (v) => absent(v, 'contained')],
  ['contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()', (v) => absent(v, 'contained')],
  ['contained.meta.security.empty()', (v) => absent(v, 'contained')],
  // ref-1 (Reference): a reference not starting with '#' makes the left side true
  [
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))",
    (v) => plainString(v, 'reference')?.startsWith('#') === false,
  ],
  // bdl-5 (Bundle.entry): a non-empty resource object
  [
    'resource.exists() or request.exists() or response.exists()',
    (v) => isPlainObject(v.resource) && v._resource === undefined && Object.keys(v.resource).length > 0,
  ],
  // bdl-8 (Bundle.entry): no fullUrl, or one without '/_history/'
  [
    "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
    (v) => absent(v, 'fullUrl') || plainString(v, 'fullUrl')?.includes('/_history/') === false,
  ],
  // bdl-3, bdl-4 (Bundle, %resource being that Bundle): no entry has a request / response, and the
  // type is one that requires none
  [
    "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))",
    (v, resource) => resource === v && isTypeOtherThan(v, ['batch', 'transaction', 'history']) && noEntryHas(v, 'request'),
  ],
  [
    "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))",
    (v, resource) => resource === v && isTypeOtherThan(v, ['batch-response', 'transaction-response', 'history']) && noEntryHas(v, 'response'),
  ],
  // bdl-7 (Bundle): not a history Bundle, and the fullUrl (& versionId) strings of the entries are distinct
  [
    "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()",
    (v) => isTypeOtherThan(v, ['history']) && fullUrlsDistinct(v),
  ],
])

/**
 * bdl-7's right side in the common case: every entry a plain object whose fullUrl is absent or a
 * string, whose resource (if any) has no meta or a meta whose versionId is absent or a string; then
 * FHIRPath concatenates fullUrl and versionId into one string per entry with a fullUrl, and
 * isDistinct compares those with ===. True only when they are all different.
 */
function fullUrlsDistinct(bundle: JsonObject): boolean {
  const entries = bundle.entry
  if (entries === undefined) return bundle._entry === undefined
  if (!Array.isArray(entries) || bundle._entry !== undefined) return false
  const seen = new Set<string>()
  for (const entry of entries) {
    if (!isPlainObject(entry)) return false
    if (absent(entry, 'fullUrl')) continue
    const fullUrl = plainString(entry, 'fullUrl')
    if (fullUrl === undefined) return false
    let versionId = ''
    const resource = entry.resource
    if (entry._resource !== undefined) return false
    if (resource !== undefined) {
      if (!isPlainObject(resource)) return false
      if (!absent(resource, 'meta')) {
        const meta = resource.meta
        if (!isPlainObject(meta) || resource._meta !== undefined) return false
        if (!absent(meta, 'versionId')) {
          const id = plainString(meta, 'versionId')
          if (id === undefined) return false
          versionId = id
        }
      }
    }
    const key = fullUrl + versionId
    if (seen.has(key)) return false
    seen.add(key)
  }
  return true
}

function isTypeOtherThan(bundle: JsonObject, types: string[]): boolean {
  const type = plainString(bundle, 'type')
  return type !== undefined && !types.includes(type)
}

/**
 * True when the invariant certainly holds on `value` (FHIRPath would give `[true]`); false means
 * "not known": evaluate it. `resource` is the value of `%resource`.
 */
export function holdsCertainly(expression: string, value: unknown, resource: unknown): boolean {
  const shortcut = SHORTCUTS.get(expression)
  return shortcut !== undefined && isPlainObject(value) && shortcut(value, resource)
}
