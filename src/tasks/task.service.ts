import { randomUUID } from 'node:crypto'
import type { Task } from '@medplum/fhirtypes'
import type { AuditContext } from '../audit/audit.service.js'
import { withDecision } from '../access/enforce.js'
import { findCurrentPerspective, hasCurrentDossier } from '../access/facts.js'
import { NO_RELATIONSHIP } from '../access/policy.js'
import { addRelationship, endCustody, endTaskRelationships, relationshipFact } from '../access/relationships.js'
import type { Deps } from '../deps.js'
import { isDatabaseTimestamp, type SearchPage } from '../fhir/search.js'
import type { TaskRow } from '../db/schema.js'
import { badRequest, issue, notFound, OutcomeError, unprocessable } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'
import { findOrCreatePatient, findPatient, findPatientIdsByIdentifiers } from '../patient/patient.repository.js'
import type { Executor } from '../db/executor.js'
import type { DerivedFlag } from '../perspective/derive.js'
import {
  OPEN_STATUSES,
  SERVER_TASK_EXTENSIONS,
  TASK_BUSINESS_STATUS_SYSTEM,
  TASK_INPUT_SYSTEM,
  TERMINAL_STATUSES,
  parseTask,
  transitionAllowed,
  type ParsedTask,
} from './task-resource.js'
import {
  countTasks,
  findTask,
  findTasksByIdentifier,
  findTaskVersion,
  firstDossierOpen,
  identifierTaken,
  insertTask,
  listTaskVersions,
  lockTask,
  searchTasks,
  updateTask,
  type TaskSearchRow,
} from './task.repository.js'
import { announce } from '../outbox/outbox.js'

/**
 * Art. 64 Vw: no removal while travel is medically irresponsible. A departure cannot be announced
 * or moved forward while the patient's current perspective says a medical postponement is granted
 * and runs past the planned date. The answer names the procedure, never the reason behind it.
 */
async function checkNoPostponement(db: Executor, patientId: string, plannedStart: string | undefined, status: string): Promise<void> {
  if (status === 'cancelled' || status === 'rejected') return
  const current = await findCurrentPerspective(db, patientId)
  const flag = ((current?.flags as DerivedFlag[] | undefined) ?? []).find((f) => f.code === 'medical-postponement')
  if (flag?.value !== 'granted') return
  const until = flag.until ? Date.parse(flag.until) : Number.POSITIVE_INFINITY
  const planned = plannedStart ? Date.parse(plannedStart) : Number.NEGATIVE_INFINITY
  if (planned < until) {
    throw new OutcomeError(409, [
      issue(
        'business-rule',
        `A medical postponement (art. 64 Vw) is granted${flag.until ? ` until ${flag.until}` : ''}; the departure cannot be planned before it ends. Contact the medical service.`,
        ['Task.executionPeriod.start'],
      ),
    ])
  }
}

export const DOSSIER_OPENED_URL = SERVER_TASK_EXTENSIONS.dossierOpened

const precondition = (text: string) => new OutcomeError(412, [issue('conflict', text)])

/**
 * Each input names a resource of this task's patient, as what the receiver may pull: never a
 * pointer elsewhere, nor a word dressed up as an id.
 */
async function checkInputs(trx: Executor, patientId: string, inputs: ParsedTask['inputs']): Promise<void> {
  for (const [i, input] of inputs.entries()) {
    const ours =
      input.resourceType === 'Patient'
        ? input.id === patientId
        : input.resourceType === 'Bundle'
          ? (await trx.selectFrom('bundle_version').select('id').where('id', '=', input.id).where('patient_id', '=', patientId).executeTakeFirst()) !== undefined
          : (await trx.selectFrom('consent').select('id').where('id', '=', input.id).where('patient_id', '=', patientId).executeTakeFirst()) !== undefined
    if (!ours) {
      throw unprocessable([issue('business-rule', `Task.input[${i}] names no ${input.resourceType} of this task's patient`, [`Task.input[${i}].valueReference`])])
    }
  }
}

async function checkIdentifiersFree(trx: Executor, requesterOrg: string, identifiers: readonly string[], exceptTaskId?: string): Promise<void> {
  if (await identifierTaken(trx, requesterOrg, identifiers, exceptTaskId)) {
    throw new OutcomeError(409, [
      issue('duplicate', 'Your organisation has a task with this identifier already; update that one (PUT /fhir/Task?identifier=system|value)', ['Task.identifier']),
    ])
  }
}

function canonicalTask(parsed: ParsedTask, id: string, version: number, patientId: string, vNummer: string | undefined, now: Date, authoredOn: string): Task {
  return {
    resourceType: 'Task',
    id,
    meta: { versionId: String(version), lastUpdated: now.toISOString() },
    ...(parsed.identifiers.length
      ? { identifier: parsed.identifiers.map((i) => ({ system: i.slice(0, i.indexOf('|')), value: i.slice(i.indexOf('|') + 1) })) }
      : {}),
    status: parsed.status as Task['status'],
    ...(parsed.businessStatus ? { businessStatus: { coding: [{ system: TASK_BUSINESS_STATUS_SYSTEM, code: parsed.businessStatus }] } } : {}),
    intent: parsed.intent as Task['intent'],
    code: { coding: [{ system: SYSTEM.taskCode, code: parsed.code }] },
    for: { reference: `Patient/${patientId}`, ...(vNummer ? { identifier: { system: SYSTEM.vNummer, value: vNummer } } : {}) },
    requester: { identifier: { system: SYSTEM.ura, value: parsed.requesterOrg } },
    owner: { identifier: { system: SYSTEM.ura, value: parsed.ownerOrg } },
    ...(parsed.recipientOrgs.length
      ? { restriction: { recipient: parsed.recipientOrgs.map((value) => ({ identifier: { system: SYSTEM.ura, value } })) } }
      : {}),
    ...(parsed.plannedStart || parsed.plannedEnd
      ? { executionPeriod: { ...(parsed.plannedStart ? { start: parsed.plannedStart } : {}), ...(parsed.plannedEnd ? { end: parsed.plannedEnd } : {}) } }
      : {}),
    authoredOn,
    lastModified: now.toISOString(),
    ...(parsed.inputs.length
      ? { input: parsed.inputs.map((i) => ({ type: { coding: [{ system: TASK_INPUT_SYSTEM, code: i.type }] }, valueReference: { reference: `${i.resourceType}/${i.id}` } })) }
      : {}),
    ...(parsed.handoverMethod
      ? {
          output: [
            { type: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-output', code: 'handover-method' }] }, valueCode: parsed.handoverMethod },
            ...parsed.phoneHandoverBigs.map((value) => ({
              type: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-output', code: 'phone-handover-caregiver' }] },
              valueIdentifier: { system: SYSTEM.big, value },
            })),
          ],
        }
      : {}),
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x))

function partyOf(row: Pick<TaskRow, 'requester_org' | 'owner_org' | 'recipient_orgs'>, org: string) {
  if (row.requester_org === org) return 'requester' as const
  if (row.owner_org === org) return 'owner' as const
  if (row.recipient_orgs.includes(org)) return 'recipient' as const
  return undefined
}

/** Writes the relationships a new task establishes: they are the requester's act, never the parties' own. */
async function relationshipsOfNewTask(trx: Executor, row: Pick<TaskRow, 'id' | 'code' | 'patient_id' | 'requester_org' | 'owner_org' | 'recipient_orgs' | 'created_by'>, now: Date) {
  const source = { type: 'task' as const, id: row.id, byOrg: row.requester_org, byUser: row.created_by }
  if (row.code === 'transfer') {
    await addRelationship(trx, row.patient_id, row.owner_org, 'receiver', source, now)
  } else {
    for (const org of new Set([row.requester_org, row.owner_org])) await addRelationship(trx, row.patient_id, org, 'task-party', source, now)
  }
  for (const org of row.recipient_orgs) await addRelationship(trx, row.patient_id, org, 'task-party', source, now)
}

/** Announces a transfer, departure or case. The patient is matched by V-nummer, and created when new. */
export async function createTask(deps: Deps, ctx: AuditContext, task: Task) {
  const { clock } = deps
  const parsed = parseTask(task)
  if ('issues' in parsed) throw unprocessable(parsed.issues)
  if (parsed.status !== 'requested') throw unprocessable([issue('business-rule', 'A new task starts with status "requested"', ['Task.status'])])
  if (parsed.requesterOrg !== ctx.principal.org) {
    throw unprocessable([issue('business-rule', 'Task.requester must be your own organisation', ['Task.requester'])])
  }
  if (parsed.ownerOrg === parsed.requesterOrg) {
    throw unprocessable([issue('business-rule', 'Task.owner must be another organisation than the requester', ['Task.owner'])])
  }
  const authorities = deps.settings.departureAuthorities
  const id = randomUUID()
  return withDecision(deps, ctx, {
    action: 'task.create',
    gather: async (trx) => {
      const patientId = parsed.patient.identifier
        ? (await findPatientIdsByIdentifiers(trx, [parsed.patient.identifier]))[0]
        : (await findPatient(trx, parsed.patient.id!))?.id
      const relationship = patientId ? await relationshipFact(trx, patientId, ctx.principal.org, clock.now()) : NO_RELATIONSHIP
      return {
        facts: {
          taskCode: parsed.code,
          patientExists: patientId !== undefined,
          relationship,
          taskAuthority: authorities.includes(ctx.principal.org),
        },
        subject: { patientId, resourceType: 'Task' },
        data: patientId,
      }
    },
    act: async (trx, _decision, known) => {
      const now = clock.now()
      // Only after the decision: to a caller the rules refuse, an unknown id and a patient of others look the same.
      if (!known && !parsed.patient.identifier) throw unprocessable([issue('not-found', 'Task.for names no known patient', ['Task.for.reference'])])
      const patientId = known ?? (await findOrCreatePatient(trx, parsed.patient.identifier!, now))
      if (parsed.code === 'departure') await checkNoPostponement(trx, patientId, parsed.plannedStart, parsed.status)
      await checkInputs(trx, patientId, parsed.inputs)
      await checkIdentifiersFree(trx, parsed.requesterOrg, parsed.identifiers)
      const resource = canonicalTask(parsed, id, 1, patientId, parsed.patient.identifier?.value, now, now.toISOString())
      const row = {
        id,
        version: 1,
        code: parsed.code,
        status: parsed.status,
        patient_id: patientId,
        requester_org: parsed.requesterOrg,
        owner_org: parsed.ownerOrg,
        recipient_orgs: parsed.recipientOrgs,
        planned_start: parsed.plannedStart ? new Date(parsed.plannedStart) : null,
        handover_method: null,
        created_at: now,
        created_by: ctx.principal.sub,
        updated_at: now,
        completed_at: null,
        resource: JSON.stringify(resource),
        identifiers: parsed.identifiers,
      }
      await insertTask(trx, row)
      await relationshipsOfNewTask(trx, row, now)
      // Notified pull: the organisations the task names learn of it, in this transaction.
      await announce(trx, { kind: 'task-created', taskId: id, to: [parsed.ownerOrg, ...parsed.recipientOrgs].map((org) => ({ org, party: 'owner' as const })), now })
      return { result: resource, audit: { patientId, resourceId: id, detail: { code: parsed.code, owner: parsed.ownerOrg } } }
    },
  })
}

/** Keeps the relationships of a task in step with a change: recipients, acceptance of a transfer, the end. */
async function relationshipsOfChangedTask(deps: Deps, trx: Executor, row: TaskRow, status: string, recipients: readonly string[], now: Date) {
  const source = { type: 'task' as const, id: row.id, byOrg: row.requester_org, byUser: row.created_by }
  const removed = row.recipient_orgs.filter((org) => !recipients.includes(org))
  const added = recipients.filter((org) => !row.recipient_orgs.includes(org))
  await endTaskRelationships(trx, row.id, now, { orgs: removed, kinds: ['task-party'] })
  for (const org of added) await addRelationship(trx, row.patient_id, org, 'task-party', source, now)

  if (row.code === 'transfer' && ['accepted', 'in-progress', 'completed'].includes(status)) {
    // The receiver becomes a custodian once the transfer is under way: by the sender's task, not its own say.
    const already = await trx.selectFrom('care_relationship').select('id')
      .where('source_id', '=', row.id).where('kind', '=', 'custodian').executeTakeFirst()
    if (!already) await addRelationship(trx, row.patient_id, row.owner_org, 'custodian', source, now)
  }
  if ((TERMINAL_STATUSES as readonly string[]).includes(status)) {
    await endTaskRelationships(trx, row.id, new Date(now.getTime() + deps.settings.taskGraceMs), { kinds: ['task-party'] })
    await endTaskRelationships(trx, row.id, now, { kinds: ['receiver'] })
    if (row.code === 'transfer' && status === 'completed') await endCustody(trx, row.patient_id, row.requester_org, now)
    // A transfer that did not happen leaves custody where it was.
    if (row.code === 'transfer' && status !== 'completed') await endTaskRelationships(trx, row.id, now, { kinds: ['custodian'] })
  }
}

/** The BIG numbers a stored task records for its phone handover. */
function phoneHandoverBigsOf(task: Task): string[] {
  return (task.output ?? [])
    .filter((o) => o.type?.coding?.some((c) => c.code === 'phone-handover-caregiver'))
    .map((o) => o.valueIdentifier?.value)
    .filter((v): v is string => typeof v === 'string')
}

/** Updates a task: status transitions by the party allowed to make them, completion with how the handover went. */
export async function changeTask(deps: Deps, ctx: AuditContext, id: string, task: Task, ifMatch: string | undefined) {
  const { clock } = deps
  if (task.id !== undefined && task.id !== id) throw badRequest('Task.id must match the id in the URL', ['Task.id'])
  const parsed = parseTask(task)
  if ('issues' in parsed) throw unprocessable(parsed.issues)
  return withDecision(deps, ctx, {
    action: 'task.update',
    gather: async (trx) => {
      const current = await lockTask(trx, id)
      const party = current ? partyOf(current, ctx.principal.org) : undefined
      const transition = current && party && party !== 'recipient' ? transitionAllowed(current.status, parsed.status, party) : undefined
      const plannedStart = parsed.plannedStart ? Date.parse(parsed.plannedStart) : null
      return {
        facts: {
          ...(party ? { taskParty: party } : {}),
          ...(transition ? { transitionByParty: transition !== 'not-yours' } : {}),
          changesRecipients: current ? !sameSet(current.recipient_orgs, parsed.recipientOrgs) : false,
          changesPlan: current
            ? (current.planned_start?.getTime() ?? null) !== plannedStart ||
              ((current.resource as unknown as Task).executionPeriod?.end ?? null) !== (parsed.plannedEnd ?? null)
            : false,
          ...(parsed.handoverMethod === 'phone-handover'
            ? {
                recordsPhoneHandover: !current || current.handover_method !== 'phone-handover' || !sameSet(phoneHandoverBigsOf(current.resource as unknown as Task), parsed.phoneHandoverBigs),
                phoneHandoverByCaller: ctx.principal.big !== undefined && parsed.phoneHandoverBigs.includes(ctx.principal.big),
              }
            : {}),
        },
        subject: { patientId: current?.patient_id, resourceType: 'Task', resourceId: id },
        data: { row: current!, party: party as 'requester' | 'owner' },
      }
    },
    act: async (trx, _decision, { row, party }, facts) => {
      if (ifMatch !== undefined && ifMatch !== `W/"${row.version}"`) throw precondition('The task has changed since you read it (If-Match does not match)')
      const stored = row.resource as unknown as Task
      const fixed: [boolean, string][] = [
        [parsed.code !== row.code, 'Task.code'],
        [parsed.requesterOrg !== row.requester_org, 'Task.requester'],
        [parsed.ownerOrg !== row.owner_org, 'Task.owner'],
        [
          (parsed.patient.id !== undefined && parsed.patient.id !== row.patient_id) ||
            (parsed.patient.identifier !== undefined && parsed.patient.identifier.value !== stored.for?.identifier?.value),
          'Task.for',
        ],
      ]
      // The requester names its task; the owner sends the identifiers back as they are.
      fixed.push([party === 'owner' && !sameSet(parsed.identifiers, row.identifiers), 'Task.identifier'])
      const storedInputs = (stored.input ?? []).map((i) => `${i.type?.coding?.[0]?.code}|${i.valueReference?.reference}`)
      fixed.push([party === 'owner' && !sameSet(parsed.inputs.map((i) => `${i.type}|${i.resourceType}/${i.id}`), storedInputs), 'Task.input'])
      const changed = fixed.find(([differs]) => differs)
      if (changed) throw unprocessable([issue('business-rule', `${changed[1]} cannot change; cancel this task and announce a new one`, [changed[1]])])
      const verdict = transitionAllowed(row.status, parsed.status, party)
      if (verdict === 'invalid') {
        throw new OutcomeError(409, [issue('business-rule', `A task cannot move from "${row.status}" to "${parsed.status}"`, ['Task.status'])])
      }
      if (parsed.status === 'completed' && parsed.handoverMethod === 'dossier-released' && !(await hasCurrentDossier(trx, row.patient_id))) {
        throw unprocessable([issue('business-rule', 'There is no dossier for this patient to release; record handed-to-patient or phone-handover', ['Task.output'])])
      }
      if (row.code === 'departure' && (facts.changesPlan === true || (parsed.status !== row.status && ['in-progress', 'completed'].includes(parsed.status)))) {
        await checkNoPostponement(trx, row.patient_id, parsed.plannedStart, parsed.status)
      }
      await checkInputs(trx, row.patient_id, parsed.inputs)
      if (party === 'requester') await checkIdentifiersFree(trx, row.requester_org, parsed.identifiers, row.id)
      const now = clock.now()
      const version = row.version + 1
      const resource = canonicalTask(parsed, id, version, row.patient_id, stored.for?.identifier?.value, now, stored.authoredOn ?? row.created_at.toISOString())
      await updateTask(trx, id, {
        version,
        status: parsed.status,
        recipient_orgs: parsed.recipientOrgs,
        planned_start: parsed.plannedStart ? new Date(parsed.plannedStart) : null,
        handover_method: parsed.handoverMethod ?? null,
        updated_at: now,
        completed_at: parsed.status === 'completed' ? now : null,
        resource: JSON.stringify(resource),
        identifiers: parsed.identifiers,
      })
      await relationshipsOfChangedTask(deps, trx, row, parsed.status, parsed.recipientOrgs, now)
      // Every organisation the task names (or named until now) except the one that changed it.
      const told = [
        { org: row.requester_org, party: 'requester' as const },
        ...[row.owner_org, ...new Set([...row.recipient_orgs, ...parsed.recipientOrgs])].map((org) => ({ org, party: 'owner' as const })),
      ].filter((t) => t.org !== ctx.principal.org)
      await announce(trx, { kind: parsed.status === 'cancelled' ? 'task-cancelled' : 'task-changed', taskId: id, to: told, now })
      return {
        result: { version, resource },
        audit: { detail: { from: row.status, to: parsed.status, ...(parsed.handoverMethod ? { handoverMethod: parsed.handoverMethod } : {}) } },
      }
    },
  })
}

export const AT_RISK_URL = SERVER_TASK_EXTENSIONS.atRisk

/**
 * The task as its requester or owner sees it, with the read receipt (when the receiving
 * organisations first opened the dossier) and, where asked, whether the handover is at risk.
 */
async function withReceipt(deps: Deps, row: TaskRow): Promise<{ task: Task; opened: Date | undefined }> {
  const task = row.resource as unknown as Task
  const opened = await firstDossierOpen(deps.db, row.patient_id, [row.owner_org, ...row.recipient_orgs], row.created_at)
  return { task: opened ? { ...task, extension: [{ url: DOSSIER_OPENED_URL, valueDateTime: opened.toISOString() }] } : task, opened }
}

/** The facts of a read of a task: how the caller's organisation stands in it. */
async function taskReadFacts(db: Executor, ctx: AuditContext, id: string) {
  const row = await findTask(db, id)
  const party = row ? partyOf(row, ctx.principal.org) : undefined
  return { facts: { ...(party ? { taskParty: party } : {}) }, subject: { patientId: row?.patient_id, resourceType: 'Task', resourceId: id }, data: { row: row!, party } }
}

/** The task as it is now (with the read receipt for its parties), or (vread) as it was at `version`. */
export async function readTask(deps: Deps, ctx: AuditContext, id: string, version?: number) {
  return withDecision(deps, ctx, {
    action: 'task.read',
    readOnly: true,
    gather: (db) => taskReadFacts(db, ctx, id),
    act: async (db, _decision, { row, party }) => {
      if (version !== undefined && version !== row.version) {
        const stored = await findTaskVersion(db, id, version)
        if (!stored) throw notFound(`Task/${id} has no version ${version}`)
        return { result: { version, resource: stored.resource as unknown as Task }, audit: { detail: { version } } }
      }
      return { result: { version: row.version, resource: party === 'recipient' ? (row.resource as unknown as Task) : (await withReceipt(deps, row)).task } }
    },
  })
}

/** Every version of a task, newest first (instance `_history`), for its parties. */
export async function taskHistory(deps: Deps, ctx: AuditContext, id: string): Promise<{ resource: Task; recordedAt: Date }[]> {
  return withDecision(deps, ctx, {
    action: 'task.read',
    readOnly: true,
    gather: (db) => taskReadFacts(db, ctx, id),
    act: async (db) => {
      const versions = (await listTaskVersions(db, id)).map((v) => ({ resource: v.resource as unknown as Task, recordedAt: v.recorded_at as unknown as Date }))
      return { result: versions, audit: { detail: { history: versions.length } } }
    },
  })
}

/**
 * Conditional update by business identifier (`PUT /Task?identifier=system|value`), as notified
 * pull uses it: among the tasks the caller's organisation requested, no match creates the task,
 * one match updates it, more than one is refused (412). Tasks of others are not looked at; an
 * owner changes a task by its id.
 */
export async function putTaskByIdentifier(deps: Deps, ctx: AuditContext, identifier: string, task: Task, ifMatch: string | undefined) {
  const bar = identifier.indexOf('|')
  if (bar <= 0 || bar === identifier.length - 1) throw badRequest('identifier must be system|value', ['identifier'])
  const named = (task.identifier ?? []).some((i) => `${i.system}|${i.value}` === identifier)
  if (!named) throw badRequest('The Task must carry the identifier it is put by', ['Task.identifier'])
  const matches = await findTasksByIdentifier(deps.db, ctx.principal.org, identifier)
  if (matches.length > 1) throw precondition('More than one of your tasks has this identifier')
  if (matches.length === 0) {
    if (task.id !== undefined) throw badRequest('No task your organisation requested has this identifier; to announce one, leave out Task.id (an owner changes a task by its id)', ['Task.id'])
    if (ifMatch !== undefined) throw precondition('No task of yours has this identifier (If-Match given)')
    return { created: true as const, version: 1, resource: await createTask(deps, ctx, task) }
  }
  const id = matches[0]!.id
  const result = await changeTask(deps, ctx, id, { ...task, id }, ifMatch)
  return { created: false as const, ...result }
}

export interface TaskSearchQuery {
  owner?: string
  requester?: string
  statuses?: string[]
  codes?: string[]
  identifiers?: string[]
  /** The tasks of one patient only; the same decision, the organisation's own inbox or outbox. */
  patientId?: string
  atRisk?: boolean
  count: number
  summaryCount: boolean
  /** False: no `total` (one statement less; the web pages show the rows only). */
  countTotal?: boolean
  page?: unknown
}

function readPosition(page: unknown): { start: string; created: string; id: string } | undefined {
  if (page === undefined) return undefined
  const p = page as { s?: unknown; c?: unknown; i?: unknown }
  if (
    typeof p !== 'object' || p === null || typeof p.s !== 'string' || typeof p.c !== 'string' || typeof p.i !== 'string' ||
    !(p.s === 'infinity' || isDatabaseTimestamp(p.s)) || !isDatabaseTimestamp(p.c) || !/^[0-9a-f-]{36}$/.test(p.i)
  ) {
    throw badRequest('_page is not a position this service handed out; follow the next link', ['_page'])
  }
  return { start: p.s as string, created: p.c as string, id: p.i as string }
}

/**
 * The inbox (`owner=` your organisation) and the outbox (`requester=`), one page at a time;
 * `at-risk=true` lists open transfers and departures due within 24 hours whose dossier the
 * receivers have not opened.
 */
export async function searchTaskList(deps: Deps, ctx: AuditContext, q: TaskSearchQuery): Promise<SearchPage<Task>> {
  const { clock } = deps
  const org = q.owner ?? q.requester
  if (!org || (q.owner && q.requester)) throw badRequest('Search by exactly one of owner= or requester= (your organisation)', ['owner'])
  const value = org.includes('|') ? org.slice(org.indexOf('|') + 1) : org
  const after = readPosition(q.page)
  return withDecision(deps, ctx, {
    action: 'task.search',
    readOnly: true,
    gather: async () => ({ facts: { ownOrganisation: value === ctx.principal.org }, subject: { resourceType: 'Task', ...(q.patientId !== undefined ? { patientId: q.patientId } : {}) }, data: undefined }),
    act: async (db) => {
      const now = clock.now()
      const filter = {
        asOf: now,
        org: value,
        role: q.owner ? ('owner' as const) : ('requester' as const),
        ...(q.statuses?.length ? { statuses: q.statuses } : {}),
        ...(q.codes?.length ? { codes: q.codes } : {}),
        ...(q.identifiers?.length ? { identifiers: q.identifiers } : {}),
        ...(q.patientId !== undefined ? { patientId: q.patientId } : {}),
        ...(q.atRisk ? { atRiskBy: new Date(now.getTime() + deps.settings.atRiskWindowMs) } : {}),
      }
      const total = q.countTotal === false && !q.summaryCount ? undefined : await countTasks(db, filter)
      if (q.summaryCount) return { result: { resources: [] as Task[], total } as SearchPage<Task>, audit: { detail: { total } } }
      const rows = await searchTasks(db, { ...filter, ...(after ? { after } : {}), limit: q.count + 1 })
      const page = rows.slice(0, q.count)
      const listed = page.map((row) => taskAsListed(row, value, now, deps.settings.atRiskWindowMs))
      const last = page[page.length - 1]
      const next = rows.length > q.count && last ? { s: last.start_key, c: last.created_key, i: last.id } : undefined
      return {
        result: { resources: listed, ...(total !== undefined ? { total } : {}), ...(next ? { next } : {}) } as SearchPage<Task>,
        audit: { detail: { listed: listed.length, ...(total !== undefined ? { total } : {}) } },
      }
    },
  })
}

/** A task in a search answer: an extra recipient sees the task, the parties also its receipt and whether it is at risk. */
function taskAsListed(row: TaskSearchRow, org: string, now: Date, atRiskWindowMs: number): Task {
  const task = row.resource as unknown as Task
  if (partyOf(row, org) === 'recipient') return task
  const opened = row.first_open ? new Date(row.first_open) : undefined
  const atRisk =
    (OPEN_STATUSES as readonly string[]).includes(row.status) &&
    row.code !== 'case' &&
    row.planned_start !== null &&
    new Date(row.planned_start).getTime() - now.getTime() <= atRiskWindowMs &&
    opened === undefined
  return {
    ...task,
    extension: [...(opened ? [{ url: DOSSIER_OPENED_URL, valueDateTime: opened.toISOString() }] : []), { url: AT_RISK_URL, valueBoolean: atRisk }],
  }
}

/**
 * The periodic sweep for handovers at risk: open transfers and departures due within the window
 * whose dossier the receivers have not opened. The requester is told once per task.
 */
export async function announceHandoversAtRisk(deps: Deps): Promise<number> {
  const now = deps.clock.now()
  const horizon = new Date(now.getTime() + deps.settings.atRiskWindowMs)
  const rows = await deps.db
    .selectFrom('task')
    .selectAll()
    .where('code', 'in', ['transfer', 'departure'])
    .where('status', 'in', [...OPEN_STATUSES])
    .where('planned_start', 'is not', null)
    .where('planned_start', '<=', horizon)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('notification').select('notification.id').whereRef('notification.task_id', '=', 'task.id').where('notification.kind', '=', 'handover-at-risk'))))
    .execute()
  let told = 0
  for (const row of rows) {
    if (await firstDossierOpen(deps.db, row.patient_id, [row.owner_org, ...row.recipient_orgs], row.created_at)) continue
    // Under the task's lock, checked again: instances sweeping at once announce it once.
    told += await deps.db.transaction().execute(async (trx) => {
      await lockTask(trx, row.id)
      const already = await trx.selectFrom('notification').select('id').where('task_id', '=', row.id).where('kind', '=', 'handover-at-risk').executeTakeFirst()
      if (already) return 0
      return announce(trx, { kind: 'handover-at-risk', taskId: row.id, to: [{ org: row.requester_org, party: 'requester' }], now })
    })
  }
  return told
}
