import type { OperationOutcomeIssue, Task } from '@medplum/fhirtypes'
import { issue } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'

export const TASK_CODES = ['transfer', 'departure', 'case'] as const
export type TaskCode = (typeof TASK_CODES)[number]

export const TASK_OUTPUT_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/task-output'
export const HANDOVER_METHODS = ['dossier-released', 'handed-to-patient', 'phone-handover'] as const
export type HandoverMethod = (typeof HANDOVER_METHODS)[number]

/** What a notified-pull Task tells the receiver it may pull: a closed vocabulary, references only. */
export const TASK_INPUT_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/task-input'
export const TASK_INPUT_TYPES = { patient: 'Patient', dossier: 'Bundle', consent: 'Consent' } as const
export type TaskInputType = keyof typeof TASK_INPUT_TYPES

/** Where a task stands beyond its status: a closed vocabulary, so it carries no free text. */
export const TASK_BUSINESS_STATUS_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/task-business-status'
export const TASK_BUSINESS_STATUSES = [
  'received',
  'awaiting-consent',
  'awaiting-dossier',
  'dossier-available',
  'dossier-opened',
  'escort-arranged',
  'alternative-date-proposed',
] as const

/** Extensions the service adds to the Tasks it answers: accepted back unchanged on update, and not stored. */
export const SERVER_TASK_EXTENSIONS = {
  dossierOpened: 'https://overdracht.nl/fhir/StructureDefinition/dossier-opened',
  atRisk: 'https://overdracht.nl/fhir/StructureDefinition/handover-at-risk',
} as const

export const OPEN_STATUSES = ['requested', 'accepted', 'in-progress', 'on-hold'] as const
export const TERMINAL_STATUSES = ['completed', 'cancelled', 'rejected'] as const

type Party = 'requester' | 'owner' | 'either'
/** Allowed status changes and who may make them. */
const TRANSITIONS: Record<string, Record<string, Party>> = {
  requested: { accepted: 'owner', rejected: 'owner', cancelled: 'requester', 'in-progress': 'either', completed: 'either' },
  accepted: { 'in-progress': 'either', 'on-hold': 'either', completed: 'either', cancelled: 'requester' },
  'in-progress': { 'on-hold': 'either', completed: 'either', cancelled: 'requester' },
  'on-hold': { 'in-progress': 'either', cancelled: 'requester' },
}

export function transitionAllowed(from: string, to: string, party: 'requester' | 'owner'): 'ok' | 'invalid' | 'not-yours' {
  if (from === to) return (TERMINAL_STATUSES as readonly string[]).includes(from) ? 'invalid' : 'ok'
  const who = TRANSITIONS[from]?.[to]
  if (!who) return 'invalid'
  return who === 'either' || who === party ? 'ok' : 'not-yours'
}

// The allow-list: a Task may hold these elements and nothing else, so it can carry no free text.
type Shape = 'string' | 'dateTime' | 'code' | 'boolean' | { object: Record<string, Shape>; required?: string[] } | { array: Shape }
const identifier: Shape = { object: { system: 'string', value: 'string' }, required: ['system', 'value'] }
const orgReference: Shape = { object: { identifier }, required: ['identifier'] }
const coding: Shape = { object: { system: 'string', code: 'code' }, required: ['system', 'code'] }
const TASK_SHAPE: Shape = {
  object: {
    resourceType: 'string',
    id: 'string',
    meta: { object: { versionId: 'string', lastUpdated: 'dateTime' } },
    extension: { array: { object: { url: 'string', valueDateTime: 'dateTime', valueBoolean: 'boolean' }, required: ['url'] } },
    identifier: { array: identifier },
    status: 'code',
    businessStatus: { object: { coding: { array: coding } }, required: ['coding'] },
    intent: 'code',
    code: { object: { coding: { array: coding } }, required: ['coding'] },
    for: { object: { reference: 'string', identifier } },
    requester: orgReference,
    owner: orgReference,
    restriction: { object: { recipient: { array: orgReference } } },
    executionPeriod: { object: { start: 'dateTime', end: 'dateTime' } },
    authoredOn: 'dateTime',
    lastModified: 'dateTime',
    input: {
      array: {
        object: {
          type: { object: { coding: { array: coding } }, required: ['coding'] },
          valueReference: { object: { reference: 'string' }, required: ['reference'] },
        },
        required: ['type', 'valueReference'],
      },
    },
    output: {
      array: {
        object: {
          type: { object: { coding: { array: coding } }, required: ['coding'] },
          valueCode: 'code',
          valueIdentifier: identifier,
        },
        required: ['type'],
      },
    },
  },
}

function checkShape(value: unknown, shape: Shape, path: string, out: OperationOutcomeIssue[]): void {
  if (shape === 'boolean') {
    if (typeof value !== 'boolean') out.push(issue('structure', `${path} must be true or false`, [path]))
    return
  }
  if (shape === 'string' || shape === 'code' || shape === 'dateTime') {
    if (typeof value !== 'string') out.push(issue('structure', `${path} must be a string`, [path]))
    return
  }
  if ('array' in shape) {
    if (!Array.isArray(value)) return void out.push(issue('structure', `${path} must be an array`, [path]))
    value.forEach((item, i) => checkShape(item, shape.array, `${path}[${i}]`, out))
    return
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return void out.push(issue('structure', `${path} must be an object`, [path]))
  }
  for (const [key, child] of Object.entries(value)) {
    const childShape = shape.object[key]
    if (!childShape) {
      out.push(
        issue('business-rule', `${path}.${key} is not allowed: a Task carries no medical data or free text (codes, identifiers and dates only)`, [
          `${path}.${key}`,
        ]),
      )
      continue
    }
    checkShape(child, childShape, `${path}.${key}`, out)
  }
  for (const key of shape.required ?? []) {
    if (!(key in value)) out.push(issue('required', `${path}.${key} is required`, [`${path}.${key}`]))
  }
}

export interface ParsedTask {
  code: TaskCode
  status: string
  intent: string
  patient: { identifier?: { system: string; value: string }; id?: string }
  requesterOrg: string
  ownerOrg: string
  recipientOrgs: string[]
  plannedStart?: string
  plannedEnd?: string
  handoverMethod?: HandoverMethod
  phoneHandoverBigs: string[]
  /** Business identifiers as `system|value`. */
  identifiers: string[]
  businessStatus?: string
  inputs: { type: TaskInputType; resourceType: string; id: string }[]
}

/**
 * A business identifier of a task is a UUID the requester makes (`urn:ietf:rfc:3986` with
 * `urn:uuid:…`, as notified pull uses it): it can name the task and nothing else, neither a
 * person's number nor a word.
 */
export const TASK_IDENTIFIER_SYSTEM = 'urn:ietf:rfc:3986'
const TASK_IDENTIFIER_VALUE = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** An organisation's URA: eight digits. */
const URA_VALUE = /^\d{8}$/
/** A V-nummer as it reaches a task's parties: letters and digits, no room for words between them. */
const V_NUMMER_VALUE = /^[A-Za-z0-9]{1,20}$/

/** Checks a Task against the allow-list and the rules of Overdracht's tasks; returns issues or the parsed task. */
export function parseTask(task: Task): { issues: OperationOutcomeIssue[] } | ParsedTask {
  const issues: OperationOutcomeIssue[] = []
  checkShape(task, TASK_SHAPE, 'Task', issues)
  if (issues.length) return { issues }
  const problem = (code: OperationOutcomeIssue['code'], text: string, path: string) => issues.push(issue(code, text, [path]))

  const taskCode = task.code?.coding?.find((c) => c.system === SYSTEM.taskCode)?.code
  if (!taskCode || !(TASK_CODES as readonly string[]).includes(taskCode)) {
    problem('code-invalid', `Task.code must be ${SYSTEM.taskCode} with code ${TASK_CODES.join(', ')}`, 'Task.code')
  }
  const orgOf = (ref: { identifier?: { system?: string; value?: string } } | undefined, path: string) => {
    if (ref?.identifier?.system !== SYSTEM.ura || !URA_VALUE.test(ref.identifier.value?.trim() ?? '')) {
      problem('value', `${path} must name an organisation by its URA (${SYSTEM.ura}, eight digits)`, `${path}.identifier`)
      return ''
    }
    return ref.identifier.value!.trim()
  }
  const requesterOrg = orgOf(task.requester as never, 'Task.requester')
  const ownerOrg = orgOf(task.owner as never, 'Task.owner')
  const recipientOrgs = (task.restriction?.recipient ?? []).map((r, i) => orgOf(r as never, `Task.restriction.recipient[${i}]`))

  const patient: ParsedTask['patient'] = {}
  const forRef = task.for
  if (forRef?.identifier) {
    if (forRef.identifier.system !== SYSTEM.vNummer || !V_NUMMER_VALUE.test(forRef.identifier.value?.trim() ?? '')) {
      problem('value', `Task.for must identify the patient by V-nummer (${SYSTEM.vNummer}, letters and digits)`, 'Task.for.identifier')
    } else patient.identifier = { system: SYSTEM.vNummer, value: forRef.identifier.value!.trim() }
  } else if (forRef?.reference) {
    const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(forRef.reference)
    if (!m) problem('value', 'Task.for.reference must be Patient/<id>', 'Task.for.reference')
    else patient.id = m[1]!
  } else problem('required', 'Task.for (the patient, by V-nummer) is required', 'Task.for')

  const start = task.executionPeriod?.start
  const end = task.executionPeriod?.end
  for (const [v, path] of [
    [start, 'Task.executionPeriod.start'],
    [end, 'Task.executionPeriod.end'],
  ] as const) {
    if (v !== undefined && Number.isNaN(Date.parse(v))) problem('value', `${path} must be a date-time`, path)
  }
  if (taskCode === 'departure' && !start) {
    problem('required', 'A departure must have its planned date in Task.executionPeriod.start', 'Task.executionPeriod.start')
  }
  if (!['order', 'plan', 'proposal'].includes(task.intent ?? '')) problem('value', 'Task.intent must be order, plan or proposal', 'Task.intent')

  let handoverMethod: HandoverMethod | undefined
  const phoneHandoverBigs: string[] = []
  ;(task.output ?? []).forEach((o, i) => {
    const type = o.type?.coding?.find((c) => c.system === TASK_OUTPUT_SYSTEM)?.code
    const path = `Task.output[${i}]`
    if (type === 'handover-method') {
      if (!o.valueCode || !(HANDOVER_METHODS as readonly string[]).includes(o.valueCode)) {
        problem('code-invalid', `handover-method must be one of ${HANDOVER_METHODS.join(', ')}`, `${path}.valueCode`)
      } else handoverMethod = o.valueCode as HandoverMethod
    } else if (type === 'phone-handover-caregiver') {
      const id = o.valueIdentifier
      if (id?.system !== SYSTEM.big || !/^\d{11}$/.test(id.value ?? '')) {
        problem('value', `phone-handover-caregiver must be a BIG number (${SYSTEM.big}, 11 digits)`, `${path}.valueIdentifier`)
      } else phoneHandoverBigs.push(id.value!)
    } else problem('code-invalid', `Task.output.type must be ${TASK_OUTPUT_SYSTEM} handover-method or phone-handover-caregiver`, `${path}.type`)
  })
  if (task.status === 'completed') {
    if (!handoverMethod) {
      problem('required', 'A completed task records how the handover went (output handover-method)', 'Task.output')
    } else if (handoverMethod === 'phone-handover' && new Set(phoneHandoverBigs).size !== 2) {
      problem('required', "A phone handover records both caregivers' BIG numbers (two phone-handover-caregiver outputs)", 'Task.output')
    }
  } else if (handoverMethod || phoneHandoverBigs.length) {
    problem('business-rule', 'How the handover went is recorded when the task is completed', 'Task.output')
  }
  for (const [i, ext] of (task.extension ?? []).entries()) {
    const path = `Task.extension[${i}]`
    if (ext.url === SERVER_TASK_EXTENSIONS.dossierOpened && typeof ext.valueDateTime === 'string' && ext.valueBoolean === undefined) continue
    if (ext.url === SERVER_TASK_EXTENSIONS.atRisk && typeof ext.valueBoolean === 'boolean' && ext.valueDateTime === undefined) continue
    problem('business-rule', `${path} is not allowed: only the extensions the service adds (${Object.values(SERVER_TASK_EXTENSIONS).join(', ')}) may come back`, path)
  }
  const identifiers: string[] = []
  for (const [i, id] of (task.identifier ?? []).entries()) {
    const path = `Task.identifier[${i}]`
    if (id.system !== TASK_IDENTIFIER_SYSTEM || !TASK_IDENTIFIER_VALUE.test(id.value ?? '')) {
      problem('value', `${path} must be a UUID of your own making: system ${TASK_IDENTIFIER_SYSTEM}, value urn:uuid:… (lower case); the patient goes in Task.for`, path)
    } else identifiers.push(`${id.system}|${id.value}`)
  }
  let businessStatus: string | undefined
  if (task.businessStatus) {
    const codes = task.businessStatus.coding ?? []
    const code = codes.length === 1 && codes[0]!.system === TASK_BUSINESS_STATUS_SYSTEM ? codes[0]!.code : undefined
    if (!code || !(TASK_BUSINESS_STATUSES as readonly string[]).includes(code)) {
      problem('code-invalid', `Task.businessStatus must be one coding of ${TASK_BUSINESS_STATUS_SYSTEM}: ${TASK_BUSINESS_STATUSES.join(', ')}`, 'Task.businessStatus')
    } else businessStatus = code
  }
  const inputs: ParsedTask['inputs'] = []
  for (const [i, input] of (task.input ?? []).entries()) {
    const path = `Task.input[${i}]`
    const codes = input.type?.coding ?? []
    const type = codes.length === 1 && codes[0]!.system === TASK_INPUT_SYSTEM ? (codes[0]!.code as TaskInputType) : undefined
    if (!type || !Object.hasOwn(TASK_INPUT_TYPES, type)) {
      problem('code-invalid', `${path}.type must be one coding of ${TASK_INPUT_SYSTEM}: ${Object.keys(TASK_INPUT_TYPES).join(', ')}`, `${path}.type`)
      continue
    }
    const resourceType = TASK_INPUT_TYPES[type]
    const m = new RegExp(`^${resourceType}/([A-Za-z0-9\\-.]{1,64})$`).exec(input.valueReference?.reference ?? '')
    if (!m) problem('value', `${path}.valueReference must be ${resourceType}/{id}: a ${type} of this task's patient`, `${path}.valueReference`)
    else inputs.push({ type, resourceType, id: m[1]! })
  }
  if (issues.length) return { issues }
  return {
    code: taskCode as TaskCode,
    status: task.status,
    intent: task.intent,
    patient,
    requesterOrg,
    ownerOrg,
    recipientOrgs: [...new Set(recipientOrgs)],
    ...(start ? { plannedStart: start } : {}),
    ...(end ? { plannedEnd: end } : {}),
    ...(handoverMethod ? { handoverMethod } : {}),
    phoneHandoverBigs,
    identifiers: [...new Set(identifiers)],
    ...(businessStatus ? { businessStatus } : {}),
    inputs,
  }
}
