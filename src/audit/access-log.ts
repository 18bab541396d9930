import type { AuditEventRow } from '../db/schema.js'

/** One line of the patient's access log (Wabvpz art. 15e; NEN 7513 ch. 9), as a person reads it. */
export interface AccessLogEntry {
  at: Date
  /** dossier.upload, dossier.read, perspective.read, consent.record, ... */
  eventType: string
  outcome: 'permit' | 'deny'
  /** The caller's organisation identifier (URA) and type (gza, dtv, ...). */
  organisation: string
  organisationType: string
  /** caregiver, regievoerder, escort, casemanager, privacy-officer, system */
  role: string
  /** The person who acted, as their identity provider named them; absent when it gave no name. */
  userName?: string
  userId: string
  bigNumber?: string
  purpose: string
  legalBasis?: string
  emergency: boolean
  /** For a recorded consent or refusal: the form, its language, the patient's language and the interpreter. */
  consent?: ConsentRecordDetail
}

export interface ConsentRecordDetail {
  form?: { type: string; version?: string; language?: string }
  patientLanguage?: string
  interpreter?: { mode: string; language?: string }
}

const str = (v: unknown) => (typeof v === 'string' && v.length <= 64 ? v : undefined)

/** The consent facts an audit entry of consent.record carries, read defensively (the log outlives versions). */
function consentDetail(detail: unknown): ConsentRecordDetail | undefined {
  if (detail === null || typeof detail !== 'object') return undefined
  const d = detail as { form?: Record<string, unknown>; patientLanguage?: unknown; interpreter?: Record<string, unknown> }
  const type = str(d.form?.type)
  const version = str(d.form?.version)
  const formLanguage = str(d.form?.language)
  const patientLanguage = str(d.patientLanguage)
  const mode = str(d.interpreter?.mode)
  const interpreterLanguage = str(d.interpreter?.language)
  const out: ConsentRecordDetail = {
    ...(type ? { form: { type, ...(version ? { version } : {}), ...(formLanguage ? { language: formLanguage } : {}) } } : {}),
    ...(patientLanguage ? { patientLanguage } : {}),
    ...(mode ? { interpreter: { mode, ...(interpreterLanguage ? { language: interpreterLanguage } : {}) } } : {}),
  }
  return Object.keys(out).length > 0 ? out : undefined
}

export const rowToAccessLogEntry = (row: AuditEventRow): AccessLogEntry => ({
  at: row.occurred_at,
  eventType: row.event_type,
  outcome: row.outcome,
  organisation: row.org_id,
  organisationType: row.org_type,
  role: row.role,
  ...(row.user_name ? { userName: row.user_name } : {}),
  userId: row.user_id,
  ...(row.big_number ? { bigNumber: row.big_number } : {}),
  purpose: row.purpose,
  ...(row.legal_basis ? { legalBasis: row.legal_basis } : {}),
  emergency: row.break_glass,
  ...(row.event_type === 'consent.record' && consentDetail(row.detail) ? { consent: consentDetail(row.detail)! } : {}),
})
