import type { Consent, ConsentProvision, OperationOutcomeIssue, Reference } from '@medplum/fhirtypes'
import { issue } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'
import { ORG_TYPES } from '../http/principal.js'
import type { Actor, ContentExclusion, Period, ProvisionFact, Purpose } from '../access/policy.js'
import { DEFAULT_SENSITIVE_CATEGORIES, SECURITY_LABEL_SYSTEM, type SensitiveCategories } from './sensitive-categories.js'
import { DEFAULT_CONSENT_FORMS, type ConsentFormCatalogue } from './consent-forms.js'
import { fhirInstant } from '../fhir/instant.js'
import { isResourceType } from '@medplum/core'
import { loadR4Definitions } from '../fhir/definitions.js'

export const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope'
export const LOINC = 'http://loinc.org'
export const CONSENT_LOINC_CODE = '59284-0'
export const CONSENT_FORM_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/consent-form'
export const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType'
export const PURPOSES: readonly Purpose[] = ['handover', 'action-perspective']
/** Largest signed form accepted inline, before base64. */
export const MAX_FORM_BYTES = 5 * 1024 * 1024

export interface ParsedConsent {
  status: 'active' | 'rejected'
  /** The URAs in Consent.organization: who recorded it. */
  organizations: string[]
  patient: { system: string; value: string }
  recordedAt: Date
  period?: Period
  formType?: string
  formVersion?: string
  /** The language of the signed form (Consent.sourceAttachment.language). */
  formLanguage?: string
  /** The patient's own language (extension patient-language). */
  patientLanguage?: string
  /** Whether and how an interpreter took part (extension interpreter). */
  interpreter?: Interpreter
  provisions: ProvisionFact[]
}

export const PATIENT_LANGUAGE_EXTENSION = 'https://overdracht.nl/fhir/StructureDefinition/patient-language'
export const INTERPRETER_EXTENSION = 'https://overdracht.nl/fhir/StructureDefinition/interpreter'
/** Register beëdigde tolken en vertalers (Rbtv): the interpreter's registration number. */
export const RBTV_SYSTEM = 'https://overdracht.nl/fhir/NamingSystem/rbtv'
export const INTERPRETER_MODES = ['none', 'in-person', 'phone', 'video'] as const

export interface Interpreter {
  mode: (typeof INTERPRETER_MODES)[number]
  language?: string
  registration?: string
}

const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/

export interface ConsentRules {
  categories: SensitiveCategories
  forms: ConsentFormCatalogue
}

/**
 * Checks a Consent against what Overdracht requires (DESIGN section 5) on top of FHIR validity,
 * and turns its provisions into decision facts. Issues name the FHIR path of each problem.
 */
export function parseConsent(
  consent: Consent,
  rules: ConsentRules = { categories: DEFAULT_SENSITIVE_CATEGORIES, forms: DEFAULT_CONSENT_FORMS },
): { issues: OperationOutcomeIssue[] } | ParsedConsent {
  const { categories } = rules
  const issues: OperationOutcomeIssue[] = []
  const problem = (code: OperationOutcomeIssue['code'], text: string, path: string) => issues.push(issue(code, text, [path]))
  // A modifier extension changes what the consent means; one the service does not know would be ignored.
  if (consent.modifierExtension?.length) problem('not-supported', 'The service does not know this modifier extension, so it cannot honour the consent as meant', 'Consent.modifierExtension')
  const count = countProvisions(consent.provision)
  if (count.provisions > MAX_PROVISIONS || count.actors > MAX_ACTORS) {
    problem('too-costly', `A consent holds at most ${MAX_PROVISIONS} provisions and ${MAX_ACTORS} recipients in all`, 'Consent.provision')
    return { issues }
  }

  if (consent.status !== 'active' && consent.status !== 'rejected') {
    problem('value', 'A new consent must have status "active" (consent) or "rejected" (refusal); withdraw with PUT', 'Consent.status')
  }
  if (!consent.scope?.coding?.some((c) => c.system === CONSENT_SCOPE_SYSTEM && c.code === 'patient-privacy')) {
    problem('required', `Consent.scope must be ${CONSENT_SCOPE_SYSTEM}#patient-privacy`, 'Consent.scope')
  }
  const codings = (consent.category ?? []).flatMap((c) => c.coding ?? [])
  if (!codings.some((c) => c.system === LOINC && c.code === CONSENT_LOINC_CODE)) {
    problem('required', `Consent.category must include ${LOINC}#${CONSENT_LOINC_CODE}`, 'Consent.category')
  }
  const form = codings.find((c) => c.system === CONSENT_FORM_SYSTEM)
  if (!form?.code || !form.version) {
    problem('required', `Consent.category must name the form type and version (${CONSENT_FORM_SYSTEM}, code and version)`, 'Consent.category')
  }
  const formLanguage = consent.sourceAttachment?.language
  if (formLanguage !== undefined && !LANGUAGE_CODE.test(formLanguage)) {
    problem('value', 'Consent.sourceAttachment.language must be a BCP 47 language code (for example ar, ti, prs)', 'Consent.sourceAttachment.language')
  } else if (form?.code && form.version) {
    const known = rules.forms.check({ code: form.code, version: form.version, language: formLanguage })
    if (known) {
      const path = known.problem === 'no-such-language' ? 'Consent.sourceAttachment.language' : 'Consent.category'
      const what = { 'unknown-form': 'This consent form is not in the catalogue', 'unknown-version': 'This version of the consent form is not in the catalogue', 'no-such-language': 'This version of the consent form does not exist in this language' }[known.problem]
      problem('code-invalid', `${what}. ${known.guidance}`, path)
    }
  }
  const patientLanguage = parsePatientLanguage(consent, problem)
  const interpreter = parseInterpreter(consent, problem)
  const patientId = consent.patient?.identifier
  if (!patientId || patientId.system !== SYSTEM.vNummer || !patientId.value?.trim()) {
    problem('required', `Consent.patient must identify the patient by V-nummer (identifier.system ${SYSTEM.vNummer})`, 'Consent.patient.identifier')
  }
  if (!consent.dateTime) problem('required', 'Consent.dateTime (when the patient decided) is required', 'Consent.dateTime')
  else if (fhirInstant(consent.dateTime, 'start') === undefined) problem('value', 'Consent.dateTime is not a valid FHIR dateTime', 'Consent.dateTime')
  const orgs = consent.organization ?? []
  if (!orgs.some((o) => o.identifier?.system === SYSTEM.ura && o.identifier.value)) {
    problem('required', `Consent.organization must name the recording organisation by URA (${SYSTEM.ura})`, 'Consent.organization')
  }

  const provisions: ProvisionFact[] = []
  let period: Period | undefined
  if (consent.status === 'active') {
    const attachment = consent.sourceAttachment
    if (!attachment || (!attachment.data && !attachment.url)) {
      problem('required', 'An active consent must carry the signed form as Consent.sourceAttachment (data or url)', 'Consent.sourceAttachment')
    } else if (!attachment.contentType) {
      problem('required', 'Consent.sourceAttachment.contentType is required', 'Consent.sourceAttachment.contentType')
    } else if (attachment.data && Buffer.byteLength(attachment.data, 'base64') > MAX_FORM_BYTES) {
      problem('too-costly', `The signed form is larger than ${MAX_FORM_BYTES} bytes`, 'Consent.sourceAttachment.data')
    }
    const root = consent.provision
    if (!root) {
      problem('required', 'An active consent must have a provision of type "permit" with nested provisions per purpose', 'Consent.provision')
    } else {
      if (root.type !== 'permit') problem('value', 'Consent.provision.type must be "permit"', 'Consent.provision.type')
      checkPeriod(root.period, 'Consent.provision.period', problem)
      period = toPeriod(root.period)
      if (period?.start && period.end && period.start >= period.end) {
        problem('invariant', 'Consent.provision.period must start before it ends', 'Consent.provision.period')
      }
      refuseUnenforceable(root, 'Consent.provision', problem)
      if (root.modifierExtension?.length) problem('not-supported', 'The service does not know this modifier extension, so it cannot honour the provision as meant', 'Consent.provision.modifierExtension')
      collectProvisions(root.provision ?? [], 'Consent.provision.provision', provisions, problem, categories)
      if (!provisions.some((p) => p.type === 'permit' && p.content === undefined)) {
        problem('required', 'An active consent must permit at least one purpose for named recipients', 'Consent.provision.provision')
      }
    }
  }
  if (issues.length > 0) return { issues }
  return {
    status: consent.status as 'active' | 'rejected',
    organizations: orgs.flatMap((o) => (o.identifier?.system === SYSTEM.ura && o.identifier.value ? [o.identifier.value] : [])),
    patient: { system: SYSTEM.vNummer, value: patientId!.value!.trim() },
    recordedAt: fhirInstant(consent.dateTime!, 'start')!,
    ...(period ? { period } : {}),
    ...(form?.code ? { formType: form.code } : {}),
    ...(form?.version ? { formVersion: form.version } : {}),
    ...(formLanguage ? { formLanguage } : {}),
    ...(patientLanguage ? { patientLanguage } : {}),
    ...(interpreter ? { interpreter } : {}),
    provisions,
  }
}

type Problem = (code: OperationOutcomeIssue['code'], text: string, path: string) => void

/** Bounds on a consent's provisions: the decision's cost grows with them, and real forms hold a handful. */
export const MAX_PROVISIONS = 64
export const MAX_ACTORS = 128

function countProvisions(p: ConsentProvision | undefined): { provisions: number; actors: number } {
  const out = { provisions: 0, actors: 0 }
  const stack = p ? [p] : []
  while (stack.length > 0) {
    const next = stack.pop()!
    out.provisions++
    out.actors += next.actor?.length ?? 0
    if (out.provisions > MAX_PROVISIONS) break
    stack.push(...(next.provision ?? []))
  }
  return out
}

function parsePatientLanguage(consent: Consent, problem: Problem): string | undefined {
  const all = (consent.extension ?? []).filter((e) => e.url === PATIENT_LANGUAGE_EXTENSION)
  if (all.length === 0) return undefined
  const value = all[0]!.valueCode
  if (all.length > 1 || value === undefined || !LANGUAGE_CODE.test(value)) {
    problem('value', `The ${PATIENT_LANGUAGE_EXTENSION} extension is given once, as valueCode with a BCP 47 language code`, 'Consent.extension')
    return undefined
  }
  return value
}

function parseInterpreter(consent: Consent, problem: Problem): Interpreter | undefined {
  const all = (consent.extension ?? []).filter((e) => e.url === INTERPRETER_EXTENSION)
  if (all.length === 0) return undefined
  const path = `Consent.extension.where(url='${INTERPRETER_EXTENSION}')`
  if (all.length > 1) {
    problem('value', 'The interpreter extension is given once', path)
    return undefined
  }
  const parts = all[0]!.extension ?? []
  const known = new Set(['mode', 'language', 'registration'])
  for (const part of parts) if (!known.has(part.url ?? '')) problem('value', `Unknown part ${part.url} of the interpreter extension (mode, language, registration)`, path)
  const mode = parts.find((p) => p.url === 'mode')?.valueCode
  if (!mode || !(INTERPRETER_MODES as readonly string[]).includes(mode)) {
    problem('required', `The interpreter extension needs mode (valueCode ${INTERPRETER_MODES.join(', ')})`, `${path}.extension('mode')`)
    return undefined
  }
  const language = parts.find((p) => p.url === 'language')?.valueCode
  if (language !== undefined && !LANGUAGE_CODE.test(language)) problem('value', 'The interpreter language must be a BCP 47 language code', `${path}.extension('language')`)
  if (mode !== 'none' && language === undefined) problem('required', 'An interpreter who took part interpreted into a language: give it (valueCode)', `${path}.extension('language')`)
  const registration = parts.find((p) => p.url === 'registration')?.valueIdentifier
  if (registration !== undefined && (registration.system !== RBTV_SYSTEM || !/^\d{1,10}$/.test(registration.value ?? ''))) {
    problem('value', `The interpreter's registration is an Rbtv number (valueIdentifier, system ${RBTV_SYSTEM}, digits)`, `${path}.extension('registration')`)
  }
  return { mode: mode as Interpreter['mode'], ...(language ? { language } : {}), ...(registration?.value ? { registration: registration.value } : {}) }
}

/** What a nested provision takes over from the permit it sits in, when it names none of its own. */
interface Inherited {
  purposes: string[]
  actors: Actor[]
  period?: Period
}

function collectProvisions(
  list: ConsentProvision[],
  path: string,
  out: ProvisionFact[],
  problem: Problem,
  categories: SensitiveCategories,
  inherited: Inherited = { purposes: [], actors: [] },
) {
  list.forEach((p, i) => {
    const here = `${path}[${i}]`
    if (p.type !== 'permit' && p.type !== 'deny') {
      problem('required', 'A nested provision must have type "permit" or "deny"', `${here}.type`)
      return
    }
    if (p.modifierExtension?.length) problem('not-supported', 'The service does not know this modifier extension, so it cannot honour the provision as meant', `${here}.modifierExtension`)
    const content = p.type === 'deny' ? contentExclusion(p, here, problem, categories) : undefined
    refuseUnenforceable(p, here, problem, content !== undefined)
    const purposes: string[] = []
    ;(p.purpose ?? []).forEach((c, j) => {
      if (c.system !== SYSTEM.consentPurpose || !(PURPOSES as readonly string[]).includes(c.code ?? '')) {
        problem('code-invalid', `Purpose must be ${SYSTEM.consentPurpose} with code ${PURPOSES.join(' or ')}`, `${here}.purpose[${j}]`)
      } else purposes.push(c.code!)
    })
    if (p.type === 'permit' && purposes.length === 0) {
      problem('required', 'A permit provision must name its purpose', `${here}.purpose`)
    }
    const actors: Actor[] = []
    ;(p.actor ?? []).forEach((a, j) => {
      if (!a.role?.coding?.some((c) => c.system === PARTICIPATION_TYPE && c.code === 'IRCP')) {
        problem('value', `Actor role must be ${PARTICIPATION_TYPE}#IRCP (information recipient)`, `${here}.actor[${j}].role`)
        return
      }
      const actor = referenceToActor(a.reference)
      if (!actor) {
        problem(
          'value',
          `Actor must name the recipient by identifier: ${SYSTEM.ura} (organisation), ${SYSTEM.big} (caregiver) or ${SYSTEM.organizationType} (${ORG_TYPES.join(', ')})`,
          `${here}.actor[${j}].reference.identifier`,
        )
        return
      }
      actors.push(actor)
    })
    if (p.type === 'permit' && actors.length === 0) {
      problem('required', 'A permit provision must name its recipients (actor with role IRCP)', `${here}.actor`)
    }
    checkPeriod(p.period, `${here}.period`, problem)
    const own = toPeriod(p.period)
    if (content) {
      // Excludes content for the recipients and purposes of the permit it sits in, unless it names its own.
      const period = own ?? inherited.period
      out.push({
        type: 'deny',
        purposes: purposes.length > 0 ? purposes : inherited.purposes,
        actors: actors.length > 0 ? actors : inherited.actors,
        ...(period ? { period } : {}),
        content,
      })
    } else {
      out.push({ type: p.type, purposes, actors, ...(own ? { period: own } : {}) })
    }
    if (p.provision) {
      const next: Inherited = p.type === 'permit' ? { purposes, actors, ...(own ? { period: own } : {}) } : inherited
      collectProvisions(p.provision, `${here}.provision`, out, problem, categories, next)
    }
  })
}

export const RESOURCE_TYPES_SYSTEM = 'http://hl7.org/fhir/resource-types'

/**
 * A deny that excludes content: by security label (a sensitive category of the configured
 * classification) or by class (a FHIR resource type). Undefined for a deny of access.
 */
function contentExclusion(p: ConsentProvision, here: string, problem: Problem, categories: SensitiveCategories): ContentExclusion | undefined {
  if (!p.securityLabel?.length && !p.class?.length) return undefined
  const labels: string[] = []
  const classes: string[] = []
  ;(p.securityLabel ?? []).forEach((c, j) => {
    if (c.system === SECURITY_LABEL_SYSTEM && c.code && categories.labels.includes(c.code)) labels.push(c.code)
    else {
      problem(
        'code-invalid',
        `A security label excluded by a consent must be ${SECURITY_LABEL_SYSTEM} with one of the sensitive categories ${categories.labels.join(', ')}`,
        `${here}.securityLabel[${j}]`,
      )
    }
  })
  ;(p.class ?? []).forEach((c, j) => {
    if (c.system === RESOURCE_TYPES_SYSTEM && c.code && isExcludableType(c.code)) classes.push(c.code)
    else problem('code-invalid', `A class excluded by a consent must be a FHIR resource type other than Patient (${RESOURCE_TYPES_SYSTEM})`, `${here}.class[${j}]`)
  })
  return { labels: [...new Set(labels)].sort(), classes: [...new Set(classes)].sort() }
}

/**
 * Resource types a consent may exclude: concrete FHIR R4 resource types (not Resource or
 * DomainResource, not a misspelling or an R5 type, which would exclude nothing), except the
 * Patient, the subject of every handover.
 */
function isExcludableType(code: string): boolean {
  loadR4Definitions()
  return code !== 'Patient' && isResourceType(code) === true
}

/**
 * Provision elements that narrow what may be released (by content, data, time of the data or kind
 * of action). A nested deny may exclude content by security label (sensitive category) or class
 * (resource type); the rest, and these anywhere else, the service cannot honour. A consent
 * carrying one is refused, because storing it would tell the patient a restriction holds that the
 * service does not enforce.
 */
const UNENFORCEABLE_PROVISION_ELEMENTS = ['securityLabel', 'class', 'code', 'data', 'dataPeriod', 'action'] as const
const CONTENT_DENY_ELEMENTS: readonly string[] = ['securityLabel', 'class']

function refuseUnenforceable(p: ConsentProvision, here: string, problem: Problem, contentDeny = false) {
  for (const element of UNENFORCEABLE_PROVISION_ELEMENTS) {
    if (contentDeny && CONTENT_DENY_ELEMENTS.includes(element)) continue
    const value = (p as Record<string, unknown>)[element]
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue
    const supported = CONTENT_DENY_ELEMENTS.includes(element)
      ? 'Only a nested provision of type "deny" may exclude content by securityLabel or class.'
      : 'The service minimises a release only by nested denies on securityLabel or class, and cannot enforce this restriction.'
    problem(
      'not-supported',
      `Consent.provision.${element} restricts what is released. ${supported} The consent is refused rather than stored as if the restriction held. Record the consent without it, or record a refusal and hand over by phone.`,
      `${here}.${element}`,
    )
  }
}

export function referenceToActor(ref: Reference | undefined): Actor | undefined {
  const id = ref?.identifier
  const value = id?.value?.trim()
  if (!id || !value) return undefined
  if (id.system === SYSTEM.ura) return { org: value }
  if (id.system === SYSTEM.big) return /^\d{11}$/.test(value) ? { big: value } : undefined
  if (id.system === SYSTEM.organizationType) return (ORG_TYPES as readonly string[]).includes(value) ? { orgType: value } : undefined
  return undefined
}

/**
 * A FHIR Period as decision facts: the start's first moment, and the first moment after the end
 * (an end of "2026-12" includes December). Undefined parts of an unreadable period are reported by
 * `checkPeriod`; here they are left out.
 */
function toPeriod(p: { start?: string; end?: string } | undefined): Period | undefined {
  if (!p || (!p.start && !p.end)) return undefined
  const start = p.start ? fhirInstant(p.start, 'start') : undefined
  const end = p.end ? fhirInstant(p.end, 'end') : undefined
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) }
}

/** Refuses a period whose start or end is not a FHIR date or dateTime this service can read. */
function checkPeriod(p: { start?: string; end?: string } | undefined, path: string, problem: Problem): void {
  for (const edge of ['start', 'end'] as const) {
    const value = p?.[edge]
    if (value !== undefined && fhirInstant(value, edge) === undefined) problem('value', `${path}.${edge} is not a valid FHIR date or dateTime`, `${path}.${edge}`)
  }
}
