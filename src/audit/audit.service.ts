import type { Clock } from '../clock.js'
import type { Action, Decision, Purpose } from '../consent/policy.js'
import type { Principal } from '../http/principal.js'
import { insertAuditEvent, type Executor } from './audit.repository.js'

export const SOURCE_SYSTEM = 'overdracht'

const ACTION_CODE: Record<Action, 'C' | 'R' | 'U' | 'D' | 'E'> = {
  'dossier.read': 'R',
  'dossier.upload': 'C',
  'patient.search': 'E',
  'consent.record': 'C',
  'consent.withdraw': 'U',
  'consent.read': 'R',
  'consent.token': 'E',
  'perspective.read': 'R',
  'task.create': 'C',
  'task.update': 'U',
  'task.read': 'R',
  'task.search': 'E',
  'audit.read': 'R',
  'emergency.review': 'U',
}

const DATA_SEGMENT: Record<Action, string> = {
  'dossier.read': 'dossier',
  'dossier.upload': 'dossier',
  'patient.search': 'patient-identifiers',
  'consent.record': 'consent',
  'consent.withdraw': 'consent',
  'consent.read': 'consent',
  'consent.token': 'consent-token',
  'perspective.read': 'handelingsperspectief',
  'task.create': 'task',
  'task.update': 'task',
  'task.read': 'task',
  'task.search': 'task',
  'audit.read': 'audit-log',
  'emergency.review': 'emergency-review',
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

/** Writes one access decision to the audit log, inside the caller's transaction when given one. */
export async function auditDecision(db: Executor, clock: Clock, ctx: AuditContext, subject: AuditSubject): Promise<void> {
  const { principal } = ctx
  await insertAuditEvent(db, {
    occurred_at: clock.now(),
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
    purpose: subject.purpose ?? (subject.action === 'perspective.read' ? 'action-perspective' : 'handover'),
    legal_basis: subject.decision.legalBasis ?? null,
    consent_id: subject.decision.consentId ?? null,
    break_glass: subject.decision.obligations.includes('audit-break-glass'),
    resource_type: subject.resourceType ?? null,
    resource_id: subject.resourceId ?? null,
    request_id: ctx.requestId,
    source_system: SOURCE_SYSTEM,
    detail: subject.detail ? JSON.stringify(subject.detail) : null,
  })
}
