/**
 * Structural validation of a FHIR resource: a port of @medplum/core 4.5.2's `validateResource`
 * (src/typeschema/validation.ts and src/typeschema/crawler.ts of medplum, Apache-2.0, Copyright
 * Orangebot, Inc. and Medplum contributors) that makes the same checks, in the same order, with the
 * same issues, on the same compiled schemas (medplum's registry, filled by definitions.ts).
 *
 * Why a port: the profile of a 30 KB collection Bundle showed most of medplum's time going into
 * its schema crawler, which asks for every element a type defines, present or not, through the
 * generic `getTypedPropertyValue`: a schema lookup, and for a choice element such as
 * `Extension.value[x]` (50 types) a freshly built property name per type, then a path string and
 * a result object, all for an absent element. Here an element's JSON property names are computed
 * once per element definition, and an element none of whose names is in the object is known to be
 * absent without that work. Present elements still go through medplum's own
 * `getTypedPropertyValueWithSchema`, so values and types are exactly medplum's.
 *
 * Also cheaper than medplum: FHIRPath invariants are parsed once into an unbounded map (medplum:
 * an LRU of 1,000 shared with nothing else) and `%ucum` / `%resource` are built once, not per
 * evaluation. Unlike medplum, errors are returned rather than thrown; exceptions from medplum's
 * helpers (e.g. an unknown data type) propagate exactly as from `validateResource`.
 */
import type {
  Constraint,
  InternalSchemaElement,
  InternalTypeSchema,
  SliceDefinition,
  SlicingRules,
  TypedValue,
  TypedValueWithPath,
} from '@medplum/core'
import {
  OperationOutcomeError,
  PropertyType,
  UCUM,
  arrayify,
  createConstraintIssue,
  createOperationOutcomeIssue,
  createProcessingIssue,
  createStructureIssue,
  deepEquals,
  deepIncludes,
  evalFhirPathTyped,
  fhirTypeToJsType,
  getDataType,
  getNestedProperty,
  getTypedPropertyValue,
  getTypedPropertyValueWithSchema,
  isEmpty,
  isPrimitiveType,
  isResource,
  matchDiscriminant,
  parseFhirPath,
  toTypedValue,
  validationError,
  validationRegexes,
} from '@medplum/core'
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes'
import { holdsCertainly } from './invariant-shortcuts.js'

type FhirPathAtom = ReturnType<typeof parseFhirPath>
type PropertyValue = TypedValueWithPath | TypedValueWithPath[]

/** Constraint keys medplum does not evaluate (the same list as medplum's). */
const skippedConstraintKeys: Record<string, boolean> = {
  'ele-1': true,
  'dom-3': true,
  'org-1': true,
  'sdf-19': true,
}

const fhirPathCache = new Map<string, FhirPathAtom>()
const UCUM_VALUE = toTypedValue(UCUM)

/**
 * Per schema: which element each JSON property name belongs to (`valueString` and `_valueString`
 * to `value[x]`), derived as medplum's `getTypedPropertyValueWithSchema` derives them; undefined
 * when a name could also be found on Object.prototype, where only medplum's own lookup is exact.
 */
const jsonNamesCache = new WeakMap<InternalTypeSchema, Map<string, string[]> | null>()

function jsonNames(schema: InternalTypeSchema): Map<string, string[]> | undefined {
  let names = jsonNamesCache.get(schema)
  if (names === undefined) {
    names = buildJsonNames(schema)
    jsonNamesCache.set(schema, names)
  }
  return names ?? undefined
}

function buildJsonNames(schema: InternalTypeSchema): Map<string, string[]> | null {
  const names = new Map<string, string[]>()
  for (const [key, element] of Object.entries(schema.elements)) {
    // medplum's crawler finds single-segment keys as schema.elements[key]; others go its own way
    if (key.includes('.') || key === '$this') return null
    const lastPathSegment = element.path.substring(element.path.lastIndexOf('.') + 1)
    for (const type of element.type ?? []) {
      const candidate = lastPathSegment.replace('[x]', capitalize(type.code))
      for (const name of [candidate, '_' + candidate]) {
        if (name in Object.prototype) return null
        const list = names.get(name)
        if (list) list.push(key)
        else names.set(name, [key])
      }
    }
  }
  return names
}

/**
 * The schema elements that have a property in the object: medplum's `getTypedPropertyValue` yields
 * a value for no other element (it looks up `object[name]` for each of the element's names).
 * Undefined when that cannot be told from the object's own keys: then every element is crawled.
 */
function presentElements(value: unknown, schema: InternalTypeSchema): Set<string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined
  const names = jsonNames(schema)
  if (!names) return undefined
  const present = new Set<string>()
  const object = value as Record<string, unknown>
  for (const name of Object.keys(object)) {
    if (object[name] === undefined) continue
    const keys = names.get(name)
    if (keys) for (const key of keys) present.add(key)
  }
  return present
}

/** Per element: [JSON name, its primitive-extension name, type code] for each type, in order. */
const candidatesCache = new WeakMap<InternalSchemaElement, [string, string, string][]>()

function candidates(element: InternalSchemaElement): [string, string, string][] {
  let list = candidatesCache.get(element)
  if (!list) {
    const lastPathSegment = element.path.substring(element.path.lastIndexOf('.') + 1)
    list = (element.type ?? []).map((type) => {
      const name = lastPathSegment.replace('[x]', capitalize(type.code))
      return [name, '_' + name, type.code]
    })
    candidatesCache.set(element, list)
  }
  return list
}

/**
 * `getNestedProperty(parent, key, { withPath: true })[0]` for a key of the parent's schema: medplum's
 * `getTypedPropertyValueWithSchema` with the element's names precomputed, then its `withPath`.
 * A value with a primitive extension (`_name`) goes through medplum's own function.
 */
function propertyValue(parent: TypedValueWithPath, key: string, schema: InternalTypeSchema): PropertyValue {
  if (key.includes('.') || key === '$this') return getNestedProperty(parent, key, { withPath: true })[0] as PropertyValue
  const prefix = parent.path ? parent.path + '.' : ''
  const element = schema.elements[key] as InternalSchemaElement
  const object = parent.value as Record<string, unknown> | undefined
  let tv: TypedValue | TypedValue[] | undefined
  if (object) {
    let resultValue: unknown = undefined
    let resultType = 'undefined'
    let primitiveExtension: unknown = undefined
    for (const [name, extensionName, code] of candidates(element)) {
      resultValue = object[name]
      primitiveExtension = object[extensionName]
      if (resultValue !== undefined || primitiveExtension !== undefined) {
        resultType = code
        break
      }
    }
    if (primitiveExtension) {
      tv = getTypedPropertyValueWithSchema(parent, key, element)
    } else if (!isEmpty(resultValue)) {
      if (resultType === 'Element' || resultType === 'BackboneElement') resultType = (element.type[0] as { code: string }).code
      tv = Array.isArray(resultValue) ? resultValue.map((v) => typedWithType(v, resultType)) : typedWithType(resultValue, resultType)
    }
  }
  if (tv === undefined) return { type: 'undefined', value: undefined, path: `${prefix}${key}` }
  if (Array.isArray(tv)) return tv.map((v, idx) => ({ ...v, path: `${prefix}${key}[${idx}]` }))
  return { ...tv, path: `${prefix}${key}` }
}

/** medplum's toTypedValueWithType. */
function typedWithType(value: unknown, type: string): TypedValue {
  if (type === 'Resource' && isResource(value)) {
    type = value.resourceType
  }
  return { type, value }
}

export function validateStructure(resource: Resource): OperationOutcomeIssue[] {
  if (!resource.resourceType) {
    throw new OperationOutcomeError(validationError('Missing resource type'))
  }
  return new StructureValidator(toTypedValue(resource)).validate()
}

class StructureValidator {
  private readonly issues: OperationOutcomeIssue[] = []
  private readonly root: TypedValue
  /** the enclosing resources, innermost last, with their `%resource` value */
  private readonly currentResource: TypedValue[] = []
  private readonly rootResource: TypedValue | undefined
  private readonly schema: InternalTypeSchema

  constructor(typedValue: TypedValue) {
    this.root = typedValue
    if (isResource(typedValue.value)) this.currentResource.push(toTypedValue(typedValue.value))
    this.rootResource = isResource(typedValue.value) ? typedValue : undefined
    this.schema = getDataType(typedValue.type)
  }

  validate(): OperationOutcomeIssue[] {
    // Check root constraints
    this.constraintsCheck({ ...this.root, path: this.schema.path }, this.schema)
    checkObjectForNull(this.root.value as Record<string, unknown>, this.schema.path, this.issues)
    this.crawl(this.root, this.schema, this.schema.path)
    return this.issues
  }

  // --- the crawler (medplum's Crawler with skipMissingProperties unset) ---

  private crawl(root: TypedValue, schema: InternalTypeSchema, initialPath: string): void {
    this.crawlObject({ ...root, path: initialPath }, schema, initialPath)
  }

  private crawlObject(obj: TypedValueWithPath, schema: InternalTypeSchema, path: string): void {
    const objIsResource = isResource(obj.value)
    if (objIsResource) this.currentResource.push(toTypedValue(obj.value))
    const present = presentElements(obj.value, schema)
    for (const key of Object.keys(schema.elements)) {
      if (present && !present.has(key)) {
        // Absent: all medplum's visitor does with it is to require it (its value would be 'undefined')
        const element = schema.elements[key]!
        if (element.min > 0) this.issues.push(createStructureIssue(`${obj.path ? obj.path + '.' : ''}${key}`, 'Missing required property'))
        continue
      }
      this.crawlProperty(obj, key, schema, `${path}.${key}`)
    }
    this.checkAdditionalProperties(obj, schema.elements, obj.path)
    if (objIsResource) this.currentResource.pop()
  }

  private crawlProperty(parent: TypedValueWithPath, key: string, schema: InternalTypeSchema, path: string): void {
    const propertyValues = [propertyValue(parent, key, schema)]
    this.visitProperty(key, path, propertyValues, schema)
    for (const propertyValue of propertyValues) {
      if (propertyValue) {
        for (const value of arrayify(propertyValue) as TypedValueWithPath[]) {
          // Recursively crawl as the expected data type
          if (!isPrimitiveType(value.type)) this.crawlObject(value, getDataType(value.type), path)
        }
      }
    }
  }

  // --- medplum's ResourceValidator ---

  private visitProperty(key: string, path: string, propertyValues: PropertyValue[], schema: InternalTypeSchema): void {
    const element = schema.elements[key]
    if (!element) {
      throw new Error(`Missing element validation schema for ${key}`)
    }

    for (const value of propertyValues) {
      if (!this.checkPresence(value, element, path)) {
        return
      }
      // Check cardinality
      let values: TypedValueWithPath[]
      if (element.isArray) {
        if (!Array.isArray(value)) {
          this.issues.push(createStructureIssue(path, 'Expected array of values for property'))
          return
        }
        values = value
      } else {
        if (Array.isArray(value)) {
          this.issues.push(createStructureIssue(path, 'Expected single value for property'))
          return
        }
        values = [value]
      }

      if (values.length < element.min || values.length > element.max) {
        this.issues.push(
          createStructureIssue(
            element.path,
            `Invalid number of values: expected ${element.min}..${Number.isFinite(element.max) ? element.max : '*'}, but found ${values.length}`,
          ),
        )
      }

      if (!matchesSpecifiedValue(value, element)) {
        this.issues.push(createStructureIssue(path, 'Value did not match expected pattern'))
      }

      const sliceCounts: Record<string, number> | undefined = element.slicing
        ? Object.fromEntries(element.slicing.slices.map((s) => [s.name, 0]))
        : undefined
      for (const value of values) {
        this.constraintsCheck(value, element)
        // medplum's referenceTypeCheck only ever yields a warning, which validation.ts drops
        this.checkPropertyValue(value)

        const sliceName = checkSliceElement(value, element.slicing)
        if (sliceName && sliceCounts) {
          sliceCounts[sliceName] = (sliceCounts[sliceName] ?? 0) + 1
        }
      }

      this.validateSlices(element.slicing?.slices, sliceCounts, path)
    }
  }

  private checkPresence(value: PropertyValue, field: InternalSchemaElement, path: string): boolean {
    if (!Array.isArray(value) && value.value === undefined) {
      if (field.min > 0) {
        this.issues.push(createStructureIssue(value.path, 'Missing required property'))
      }
      return false
    }

    // medplum's isEmpty(value): a TypedValueWithPath object is never empty, an array when it has no items
    if (Array.isArray(value) && value.length === 0) {
      this.issues.push(createStructureIssue(path, 'Invalid empty value'))
      return false
    }

    return true
  }

  private checkPropertyValue(value: TypedValueWithPath): void {
    if (isPrimitiveType(value.type)) {
      this.validatePrimitiveType(value)
    } else if (isEmpty(value.value)) {
      this.issues.push(createStructureIssue(value.path, `Invalid empty non-primitive value`))
    }
  }

  private validateSlices(slices: SliceDefinition[] | undefined, counts: Record<string, number> | undefined, path: string): void {
    if (!slices || !counts) {
      return
    }
    for (const slice of slices) {
      const sliceCardinality = counts[slice.name] as number
      if (sliceCardinality < slice.min || sliceCardinality > slice.max) {
        this.issues.push(
          createStructureIssue(
            path,
            `Incorrect number of values provided for slice '${slice.name}': expected ${slice.min}..${
              Number.isFinite(slice.max) ? slice.max : '*'
            }, but found ${sliceCardinality}`,
          ),
        )
      }
    }
  }

  private checkAdditionalProperties(parent: TypedValueWithPath, properties: Record<string, InternalSchemaElement>, path: string): void {
    const object = parent.value as Record<string, unknown> | undefined
    if (!object) {
      return
    }
    const choiceOfTypeElements: Record<string, string> = {}
    for (const key of Object.keys(object)) {
      if (key === 'resourceType') {
        continue // Skip special resource type discriminator property in JSON
      }
      const choiceOfTypeElementName = isChoiceOfType(parent, key, properties)
      if (choiceOfTypeElementName) {
        // check that the type of the primitive extension matches the type of the property
        let relatedElementName: string
        let requiredRelatedElementName: string
        if (choiceOfTypeElementName.startsWith('_')) {
          relatedElementName = choiceOfTypeElementName.slice(1)
          requiredRelatedElementName = key.slice(1)
        } else {
          relatedElementName = '_' + choiceOfTypeElementName
          requiredRelatedElementName = '_' + key
        }

        if (relatedElementName in choiceOfTypeElements && choiceOfTypeElements[relatedElementName] !== requiredRelatedElementName) {
          this.issues.push(
            createOperationOutcomeIssue(
              'warning',
              'structure',
              `Type of primitive extension does not match the type of property "${choiceOfTypeElementName.startsWith('_') ? choiceOfTypeElementName.slice(1) : choiceOfTypeElementName}"`,
              choiceOfTypeElementName,
            ),
          )
        }

        if (choiceOfTypeElements[choiceOfTypeElementName]) {
          // Found a duplicate choice of type property (medplum: a warning; r4-rules.ts reports the error)
          this.issues.push(
            createOperationOutcomeIssue(
              'warning',
              'structure',
              `Conflicting choice of type properties: "${key}", "${choiceOfTypeElements[choiceOfTypeElementName]}"`,
              key,
            ),
          )
        }
        choiceOfTypeElements[choiceOfTypeElementName] = key
        continue
      }
      if (!(key in properties) && !(key.startsWith('_') && key.slice(1) in properties)) {
        this.issues.push(createStructureIssue(`${path}.${key}`, `Invalid additional property "${key}"`))
      }
    }
  }

  private constraintsCheck(value: TypedValueWithPath, field: InternalTypeSchema | InternalSchemaElement): void {
    const constraints = field.constraints
    if (!constraints) {
      return
    }
    for (const constraint of constraints) {
      if (constraint.severity === 'error' && !(constraint.key in skippedConstraintKeys)) {
        const expression = this.isExpressionTrue(constraint, value)
        if (!expression) {
          this.issues.push(createConstraintIssue(value.path, constraint))
          return
        }
      }
    }
  }

  private isExpressionTrue(constraint: Constraint, value: TypedValueWithPath): boolean {
    const variables: Record<string, TypedValue> = {
      '%context': value,
      '%ucum': UCUM_VALUE,
    }
    const resource = this.currentResource[this.currentResource.length - 1]
    if (holdsCertainly(constraint.expression, value.value, resource?.value)) return true
    if (resource) {
      variables['%resource'] = resource
    }
    if (this.rootResource) {
      variables['%rootResource'] = this.rootResource
    }

    try {
      let atom = fhirPathCache.get(constraint.expression)
      if (!atom) {
        atom = parseFhirPath(constraint.expression)
        fhirPathCache.set(constraint.expression, atom)
      }
      const evalValues = evalFhirPathTyped(atom, [value], variables)
      return evalValues.length === 1 && evalValues[0]?.value === true
    } catch (e: any) {
      this.issues.push(
        createProcessingIssue(value.path, 'Error evaluating invariant expression', e, {
          fhirpath: constraint.expression,
        }),
      )
      return false
    }
  }

  private validatePrimitiveType(typedValue: TypedValueWithPath): void {
    const [primitiveValue, extensionElement] = unpackPrimitiveElement(typedValue)
    const path = typedValue.path

    if (primitiveValue) {
      const { type, value } = primitiveValue
      // First, make sure the value is the correct JS type
      if (!(type in fhirTypeToJsType)) {
        this.issues.push(createStructureIssue(path, `Invalid JSON type: ${type} is not a valid FHIR type`))
        return
      }
      const expectedType = fhirTypeToJsType[type as keyof typeof fhirTypeToJsType]
      if (typeof value !== expectedType) {
        if (value !== null) {
          this.issues.push(createStructureIssue(path, `Invalid JSON type: expected ${expectedType}, but got ${typeof value}`))
        }
        return
      }
      // Then, perform additional checks for specialty types
      if (expectedType === 'string') {
        this.validateString(value as string, type, path)
      } else if (expectedType === 'number') {
        this.validateNumber(value as number, type, path)
      }
    }
    if (extensionElement) {
      this.crawl(extensionElement, getDataType('Element'), path)
    }
  }

  private validateString(str: string, type: string, path: string): void {
    if (!str.trim()) {
      this.issues.push(createStructureIssue(path, 'String must contain non-whitespace content'))
      return
    }

    // FHIR strings have a maximum length of 1 MB
    if (str.length > 1024 * 1024) {
      this.issues.push(createStructureIssue(path, 'String cannot be larger than 1 MB'))
      return
    }

    const regex = validationRegexes[type]
    if (regex && !regex.exec(str)) {
      this.issues.push(createStructureIssue(path, 'Invalid ' + type + ' format'))
    }
  }

  private validateNumber(n: number, type: string, path: string): void {
    if (Number.isNaN(n) || !Number.isFinite(n)) {
      this.issues.push(createStructureIssue(path, 'Invalid numeric value'))
    } else if (isIntegerType(type) && !Number.isInteger(n)) {
      this.issues.push(createStructureIssue(path, 'Expected number to be an integer'))
    } else if (type === PropertyType.positiveInt && n <= 0) {
      this.issues.push(createStructureIssue(path, 'Expected number to be positive'))
    } else if (type === PropertyType.unsignedInt && n < 0) {
      this.issues.push(createStructureIssue(path, 'Expected number to be non-negative'))
    }
  }
}

function capitalize(word: string): string {
  if (!word) {
    return ''
  }
  return word.charAt(0).toUpperCase() + word.substring(1)
}

function isIntegerType(propertyType: string): boolean {
  return propertyType === PropertyType.integer || propertyType === PropertyType.positiveInt || propertyType === PropertyType.unsignedInt
}

/** Per schema's elements: for each key, the choice element it would belong to (see isChoiceOfType), or null. */
const choiceKeyCache = new WeakMap<Record<string, InternalSchemaElement>, Map<string, { elementName: string; testProperty: string } | null>>()

/** The choice-of-type element name (`value[x]`, `_value[x]`) if the key is a present choice property. */
function isChoiceOfType(typedValue: TypedValue, key: string, propertyDefinitions: Record<string, InternalSchemaElement>): string | undefined {
  let prefix = ''
  if (key.startsWith('_')) {
    key = key.slice(1)
    prefix = '_'
  }
  let byKey = choiceKeyCache.get(propertyDefinitions)
  if (!byKey) {
    byKey = new Map()
    choiceKeyCache.set(propertyDefinitions, byKey)
  }
  let choice = byKey.get(key)
  if (choice === undefined) {
    choice = null
    const parts = key.split(/(?=[A-Z])/g) // Split before capital letters
    let testProperty = ''
    for (const part of parts) {
      testProperty += part
      const elementName = testProperty + '[x]'
      if (propertyDefinitions[elementName]) {
        choice = { elementName, testProperty }
        break
      }
    }
    // keys come from the input: keep the cache bounded whatever a client sends
    if (byKey.size < 5_000) byKey.set(key, choice)
  }
  if (!choice) return undefined
  const typedPropertyValue = getTypedPropertyValue(typedValue, choice.testProperty)
  return typedPropertyValue ? prefix + choice.elementName : undefined
}

function checkObjectForNull(obj: Record<string, unknown>, path: string, issues: OperationOutcomeIssue[]): void {
  for (const [key, value] of Object.entries(obj)) {
    const propertyPath = `${path}.${key}`
    const partnerKey = key.startsWith('_') ? key.slice(1) : `_${key}`
    if (value === null) {
      issues.push(createStructureIssue(propertyPath, 'Invalid null value'))
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (value[i] === undefined) {
          issues.push(createStructureIssue(`${propertyPath}[${i}]`, 'Invalid undefined value'))
        } else if (value[i] === null && !(obj[partnerKey] as any)?.[i]) {
          // The one case where `null` is allowed in FHIR JSON: an array of primitive values
          // with extensions for some but not all values
          issues.push(createStructureIssue(`${propertyPath}[${i}]`, 'Invalid null value'))
        } else if (value[i]) {
          checkObjectForNull(value[i], `${propertyPath}[${i}]`, issues)
        }
      }
    } else if (typeof value === 'object') {
      checkObjectForNull(value as Record<string, unknown>, propertyPath, issues)
    }
  }
}

function matchesSpecifiedValue(value: TypedValue | TypedValue[], element: InternalSchemaElement): boolean {
  const typeAndValue = Array.isArray(value) ? value.map((v) => ({ type: v.type, value: v.value })) : { type: value.type, value: value.value }
  if (element.pattern && !deepIncludes(typeAndValue, element.pattern)) {
    return false
  }
  if (element.fixed && !deepEquals(typeAndValue, element.fixed)) {
    return false
  }
  return true
}

function checkSliceElement(value: TypedValue, slicingRules: SlicingRules | undefined): string | undefined {
  if (!slicingRules) {
    return undefined
  }
  for (const slice of slicingRules.slices) {
    if (
      slicingRules.discriminator.every((discriminator) =>
        arrayify(getNestedProperty(value, discriminator.path))?.some((v) => matchDiscriminant(v, discriminator, slice)),
      )
    ) {
      return slice.name
    }
  }
  return undefined
}

function unpackPrimitiveElement(v: TypedValue): [TypedValue | undefined, TypedValue | undefined] {
  if (typeof v.value !== 'object' || !v.value) {
    return [v, undefined]
  }
  const primitiveValue = v.value.valueOf()
  if (primitiveValue === v.value) {
    return [undefined, { type: 'Element', value: v.value }]
  }
  const primitiveKeys = new Set(Object.keys(primitiveValue))
  const extensionEntries = Object.entries(v.value).filter(([k, _]) => !primitiveKeys.has(k))
  const extensionElement = extensionEntries.length > 0 ? Object.fromEntries(extensionEntries) : undefined
  return [
    { type: v.type, value: primitiveValue },
    { type: 'Element', value: extensionElement },
  ]
}
