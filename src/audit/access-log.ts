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
})
