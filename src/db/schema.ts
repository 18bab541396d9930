import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string, Date | string>

export interface PatientTable {
  id: string
  created_at: Timestamp
  erased_at: Timestamp | null
}

export interface PatientIdentifierTable {
  system: string
  value: string
  patient_id: string
}

export interface PatientKeyTable {
  patient_id: string
  wrapped_key: string | null
  master_key_id: string
  created_at: Timestamp
  destroyed_at: Timestamp | null
}

export interface BundleVersionTable {
  id: string
  patient_id: string
  version: number
  bundle_type: string
  content: string | null
  content_bytes: number
  entry_count: number
  uploaded_at: Timestamp
  uploaded_by_org: string
  uploaded_by_org_type: string
  uploaded_by_user: string
}

export interface AuditEventTable {
  id: ColumnType<string, string, never>
  occurred_at: Timestamp
  event_type: string
  action: 'C' | 'R' | 'U' | 'D' | 'E'
  outcome: 'permit' | 'deny'
  reason: string
  user_id: string
  user_name: string | null
  responsible_user_id: string
  org_id: string
  org_type: string
  role: string
  big_number: string | null
  access_point: string
  patient_id: string | null
  data_segment: string
  purpose: string
  legal_basis: string | null
  consent_id: string | null
  break_glass: boolean
  resource_type: string | null
  resource_id: string | null
  request_id: string
  source_system: string
  detail: ColumnType<Record<string, unknown> | null, string | null, string | null>
  prev_hash: string
  hash: string
}

export interface ConsentTable {
  id: string
  patient_id: string
  version: number
  status: 'active' | 'rejected' | 'inactive'
  recorded_at: Timestamp
  received_at: Timestamp
  withdrawn_at: Timestamp | null
  period_start: Timestamp | null
  period_end: Timestamp | null
  form_type: string | null
  form_version: string | null
  provisions: ColumnType<unknown, string, string>
  recorded_by_org: string
  recorded_by_user: string
  updated_at: Timestamp
  resource: string | null
}

export interface SigningKeyTable {
  kid: string
  alg: string
  public_jwk: ColumnType<Record<string, unknown>, string, string>
  private_jwk: string
  created_at: Timestamp
  retired_at: Timestamp | null
  verify_until: Timestamp | null
}

export interface EmergencyAccessTable {
  id: string
  patient_id: string
  user_id: string
  org_id: string
  org_type: string
  big_number: string | null
  issuer: string | null
  reason: string | null
  opened_at: Timestamp
  expires_at: Timestamp
  review_status: 'open' | 'closed'
  reviewed_by: string | null
  reviewed_at: Timestamp | null
  review_conclusion: string | null
  review_note: string | null
}

export interface TaskTable {
  id: string
  version: number
  code: 'transfer' | 'departure' | 'case'
  status: string
  patient_id: string
  requester_org: string
  owner_org: string
  recipient_orgs: string[]
  planned_start: Timestamp | null
  handover_method: string | null
  created_at: Timestamp
  created_by: string
  updated_at: Timestamp
  completed_at: Timestamp | null
  resource: ColumnType<Record<string, unknown>, string, string>
  /** Business identifiers as `system|value`, for conditional update by identifier. */
  identifiers: ColumnType<string[], string[] | undefined, string[]>
}

/** Every version of a task, for vread and `_history`. */
export interface TaskVersionTable {
  task_id: string
  version: number
  recorded_at: Timestamp
  resource: ColumnType<Record<string, unknown>, string, string>
}

/** Every version of a consent, encrypted like the consent row (null once erased). */
export interface ConsentVersionTable {
  consent_id: string
  version: number
  recorded_at: Timestamp
  resource: string | null
}

export interface PerspectiveTable {
  bundle_id: string
  patient_id: string
  version: number
  flags: ColumnType<unknown, string, string>
  fit_assessed_at: Timestamp | null
  issuer_org: string
  issuer_org_type: string
  reviewer_role: string
  reviewed_at: Timestamp
  erased_at: Timestamp | null
}

export interface CareRelationshipTable {
  id: string
  patient_id: string
  org: string
  kind: 'custodian' | 'receiver' | 'task-party'
  source_type: 'consent' | 'task'
  source_id: string
  established_by_org: string
  established_by_user: string
  started_at: Timestamp
  ends_at: Timestamp | null
}

export interface JobRunTable {
  name: string
  run_on: ColumnType<string, string, string>
  started_at: Timestamp
  finished_at: Timestamp | null
  result: ColumnType<unknown, string | null, string | null>
}

export interface SubscriptionTable {
  id: string
  org: string
  party: 'owner' | 'requester'
  criteria: string
  endpoint: string
  reason: string
  status: 'active' | 'error' | 'off'
  error: string | null
  created_at: Timestamp
  created_by: string
  deleted_at: Timestamp | null
  lease_owner: string | null
  lease_until: Timestamp | null
}

export interface NotificationTable {
  id: string
  seq: ColumnType<string, never, never>
  subscription_id: string
  kind: string
  task_id: string
  occurred_at: Timestamp
  state: 'pending' | 'delivered' | 'dead'
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp
  last_error: string | null
  delivered_at: Timestamp | null
}

export interface EscortCardTable {
  jti: string
  task_id: string
  patient_id: string
  org: string
  reviewed_at: Timestamp | null
  issued_at: Timestamp
  expires_at: Timestamp
}

/** A short code for a consent token; the token is encrypted under a key derived from the code. */
export interface ConsentShortCodeTable {
  code_hash: string
  patient_id: string
  consent_id: string
  token: string
  created_at: Timestamp
  expires_at: Timestamp
}

/** A failed short-code attempt, by an HMAC of the person who made it. */
export interface ShortCodeAttemptTable {
  subject_hash: string
  at: Timestamp
}

/** A web session, or a sign-in under way (`kind` pending). Only the hash of the cookie's id is kept. */
export interface WebSessionTable {
  id_hash: string
  kind: 'pending' | 'session'
  principal: ColumnType<unknown | null, string | null, string | null>
  csrf_token: string | null
  login: ColumnType<unknown | null, string | null, string | null>
  id_token: string | null
  created_at: Timestamp
  last_seen_at: Timestamp
  expires_at: Timestamp
}

export interface Database {
  consent_short_code: ConsentShortCodeTable
  short_code_attempt: ShortCodeAttemptTable
  escort_card: EscortCardTable
  subscription: SubscriptionTable
  notification: NotificationTable
  web_session: WebSessionTable
  job_run: JobRunTable
  care_relationship: CareRelationshipTable
  task: TaskTable
  task_version: TaskVersionTable
  consent_version: ConsentVersionTable
  perspective: PerspectiveTable
  consent: ConsentTable
  signing_key: SigningKeyTable
  emergency_access: EmergencyAccessTable
  patient: PatientTable
  patient_identifier: PatientIdentifierTable
  patient_key: PatientKeyTable
  bundle_version: BundleVersionTable
  audit_event: AuditEventTable
}

export type BundleVersionRow = Selectable<BundleVersionTable>
export type AuditEventRow = Selectable<AuditEventTable>
export type NewAuditEvent = Insertable<AuditEventTable>
export type ConsentRow = Selectable<ConsentTable>
export type SigningKeyRow = Selectable<SigningKeyTable>
export type EmergencyAccessRow = Selectable<EmergencyAccessTable>
export type TaskRow = Selectable<TaskTable>
export type PerspectiveRow = Selectable<PerspectiveTable>
export type CareRelationshipRow = Selectable<CareRelationshipTable>
export type SubscriptionRow = Selectable<SubscriptionTable>
export type NotificationRow = Selectable<NotificationTable>
export type WebSessionRow = Selectable<WebSessionTable>
