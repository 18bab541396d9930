import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Action, Decision, Purpose } from '../access/policy.js'
import type { Principal } from '../http/principal.js'
import type { Metrics } from '../metrics/metrics.js'
import { insertAuditEvent, type Executor } from './audit.repository.js'

export const SOURCE_SYSTEM = 'overdracht'

const ACTION_CODE: Record<Action, 'C' | 'R' | 'U' | 'D' | 'E'> = {
  'dossier.read': 'R',
  'dossier.upload': 'C',
  'patient.search': 'E',
  'patient.read': 'R',
  'consent.record': 'C',
  'consent.withdraw': 'U',
  'consent.read': 'R',
  'consent.token': 'E',
  'consent.form-check': 'E',
  'perspective.read': 'R',
  'task.create': 'C',
  'task.update': 'U',
  'task.read': 'R',
  'task.search': 'E',
  'audit.read': 'R',
  'emergency.review': 'U',
  'patient.erase': 'D',
  'subscription.create': 'C',
  'subscription.read': 'R',
  'subscription.search': 'E',
  'subscription.delete': 'D',
}

const DATA_SEGMENT: Record<Action, string> = {
  'dossier.read': 'dossier',
  'dossier.upload': 'dossier',
  'patient.search': 'patient-identifiers',
  'patient.read': 'patient-identifiers',
  'consent.record': 'consent',
  'consent.withdraw': 'consent',
  'consent.read': 'consent',
  'consent.token': 'consent-token',
  'consent.form-check': 'consent',
  'perspective.read': 'handelingsperspectief',
  'task.create': 'task',
  'task.update': 'task',
  'task.read': 'task',
  'task.search': 'task',
  'audit.read': 'audit-log',
  'emergency.review': 'emergency-review',
  'patient.erase': 'dossier',
  'subscription.create': 'subscription',
  'subscription.read': 'subscription',
  'subscription.search': 'subscription',
  'subscription.delete': 'subscription',
}

/** The purpose of use recorded for each action (NEN 7513 purposeOfUse). */
const PURPOSE_OF_USE: Record<Action, string> = {
  'dossier.read': 'handover',
  'dossier.upload': 'handover',
  'patient.search': 'handover',
  'patient.read': 'handover',
  'consent.record': 'handover',
  'consent.withdraw': 'handover',
  'consent.read': 'handover',
  'consent.token': 'handover',
  'consent.form-check': 'handover',
  'perspective.read': 'action-perspective',
  'task.create': 'handover-coordination',
  'task.update': 'handover-coordination',
  'task.read': 'handover-coordination',
  'task.search': 'handover-coordination',
  'audit.read': 'privacy-oversight',
  'emergency.review': 'privacy-oversight',
  'patient.erase': 'privacy-oversight',
  'subscription.create': 'handover-coordination',
  'subscription.read': 'handover-coordination',
  'subscription.search': 'handover-coordination',
  'subscription.delete': 'handover-coordination',
}

export interface AuditContext {
  principal: Principal
  requestId: string
}

export interface AuditSubject {
  action: Action
  decision: Decision
  patientId?: string | undefined
  purpose?: Purpose | undefined
  resourceType?: string
  resourceId?: string | undefined
  detail?: Record<string, unknown>
}

/** What writing to the audit log needs: the time and the chain key. */
export interface AuditEnv {
  clock: Clock
  auditKey: Uint8Array
  /** Counts each decision written (by action, effect and reason code only). */
  metrics?: Pick<Metrics, 'accessDecisions'>
}

/** Writes one access decision to the audit log, inside the caller's transaction when given one. */
export async function auditDecision(db: Executor, env: AuditEnv, ctx: AuditContext, subject: AuditSubject): Promise<void> {
  const { principal } = ctx
  await insertAuditEvent(db, env.auditKey, {
    occurred_at: env.clock.now(),
    event_type: subject.action,
    action: ACTION_CODE[subject.action],
    outcome: subject.decision.effect,
    reason: subject.decision.reason,
    user_id: principal.sub,
    user_name: principal.name ?? null,
    responsible_user_id: principal.sub,
    org_id: principal.org,
    org_type: principal.orgType,
    role: principal.role,
    big_number: principal.big ?? null,
    access_point: principal.accessPoint,
    patient_id: subject.patientId ?? null,
    data_segment: DATA_SEGMENT[subject.action],
    purpose: subject.purpose ?? PURPOSE_OF_USE[subject.action],
    legal_basis: subject.decision.legalBasis ?? null,
    consent_id: subject.decision.consentId ?? null,
    break_glass: subject.decision.obligations.includes('audit-break-glass'),
    resource_type: subject.resourceType ?? null,
    resource_id: subject.resourceId ?? null,
    request_id: ctx.requestId,
    source_system: SOURCE_SYSTEM,
    detail: subject.detail ? JSON.stringify(subject.detail) : null,
  })
  env.metrics?.accessDecisions.inc({ action: subject.action, effect: subject.decision.effect, reason: subject.decision.reason })
}

export const SYSTEM_USER = 'system:overdracht'

/** An entry for what the service does by itself (retention runs, erasure by expiry). */
export async function auditSystemEvent(
  db: Executor,
  env: AuditEnv,
  event: { eventType: string; action: 'C' | 'R' | 'U' | 'D' | 'E'; reason: string; patientId?: string; detail?: Record<string, unknown> },
): Promise<void> {
  await insertAuditEvent(db, env.auditKey, {
    occurred_at: env.clock.now(),
    event_type: event.eventType,
    action: event.action,
    outcome: 'permit',
    reason: event.reason,
    user_id: SYSTEM_USER,
    user_name: 'Overdracht retention job',
    responsible_user_id: SYSTEM_USER,
    org_id: 'overdracht',
    org_type: 'system',
    role: 'system',
    big_number: null,
    access_point: 'internal',
    patient_id: event.patientId ?? null,
    data_segment: 'dossier',
    purpose: 'retention',
    legal_basis: 'LEGAL_OBLIGATION',
    consent_id: null,
    break_glass: false,
    resource_type: event.patientId ? 'Patient' : null,
    resource_id: event.patientId ?? null,
    request_id: randomUUID(),
    source_system: SOURCE_SYSTEM,
    detail: event.detail ? JSON.stringify(event.detail) : null,
  })
}
