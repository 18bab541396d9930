import { sql, type RawBuilder } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { BundleVersionRow, ConsentRow, PerspectiveRow } from '../db/schema.js'
import type { Principal } from '../http/principal.js'
import type { PatientIdentifier } from '../patient/patient.repository.js'
import { rowToConsentFact } from './facts.js'
import { NO_RELATIONSHIP, type ConsentFact, type RelationshipFact } from './policy.js'
import { relationshipColumns, toRelationshipFact, type RelationshipColumns } from './relationships.js'

/**
 * The facts of the two busiest decisions, each gathered in one statement: the handelingsperspectief
 * read and the dossier read. The separate queries in facts.ts and relationships.ts ask the same
 * things one at a time; these statements put them side by side as subqueries of one patient row,
 * so a decision costs one round trip and sees one snapshot of the database. The rules that say
 * which facts a caller's decision needs stay here, in the same shape as before: a fact nobody will
 * decide on is not asked for.
 */

/** Open departure statuses: a departure in one of them is still planned. */
const OPEN_DEPARTURE = sql`('requested', 'accepted', 'in-progress', 'on-hold')`

type ConsentJson = { [K in 'id' | 'status' | 'provisions']: ConsentRow[K] } & {
  received_at: string
  withdrawn_at: string | null
  period_start: string | null
  period_end: string | null
}

/** Every consent record of the patient `t.id`, in the order the service received them, as one JSON array. */
const CONSENTS_OF_T = sql<ConsentJson[]>`(
  select coalesce(json_agg(json_build_object(
    'id', c.id, 'status', c.status, 'received_at', c.received_at, 'withdrawn_at', c.withdrawn_at,
    'period_start', c.period_start, 'period_end', c.period_end, 'provisions', c.provisions
  ) order by c.received_at, c.id), '[]'::json)
  from consent c where c.patient_id = t.id)`

const date = (text: string | null) => (text === null ? null : new Date(text))

function consentFacts(json: ConsentJson[] | null | undefined): ConsentFact[] {
  return (json ?? []).map((c) =>
    rowToConsentFact({
      id: c.id,
      status: c.status,
      provisions: c.provisions,
      received_at: new Date(c.received_at),
      withdrawn_at: date(c.withdrawn_at),
      period_start: date(c.period_start),
      period_end: date(c.period_end),
    }),
  )
}

/** A select of the patient's id, or no row when the patient is unknown or erased. */
function patientTarget(selector: { patientId: string } | { identifier: PatientIdentifier }): RawBuilder<{ id: string }> {
  if ('patientId' in selector) return sql`select id from patient where id = ${selector.patientId} and erased_at is null`
  const { system, value } = selector.identifier
  return sql`
    select p.id from (select patient_id from patient_identifier where system = ${system} and value = ${value} limit 1) i
    join patient p on p.id = i.patient_id and p.erased_at is null`
}

export interface PerspectiveReadFacts {
  patientId: string | undefined
  relationship: RelationshipFact
  consents: ConsentFact[]
  stored: PerspectiveRow | undefined
  departure: Date | undefined
}

/**
 * The perspective read's facts: the patient, the caller's organisation's relationships, the
 * consents (only for a non-caregiver who is a task party: nobody else's decision reads them), the
 * stored perspective of the current dossier version, and the earliest planned departure.
 */
export async function perspectiveReadFacts(
  db: Executor,
  selector: { patientId: string } | { identifier: PatientIdentifier },
  caller: { org: string; caregiver: boolean },
  now: Date,
): Promise<PerspectiveReadFacts> {
  const consents = caller.caregiver ? sql`'[]'::json` : sql`case when r.task_party then ${CONSENTS_OF_T} else '[]'::json end`
  const { rows } = await sql<
    RelationshipColumns & { patient_id: string; consents: ConsentJson[] | null; departure: Date | string | null } & { [K in keyof PerspectiveRow as `ps_${K}`]: PerspectiveRow[K] | null }
  >`
    select t.id as patient_id, r.*, ${consents} as consents,
      ps.bundle_id as ps_bundle_id, ps.patient_id as ps_patient_id, ps.version as ps_version, ps.flags as ps_flags,
      ps.fit_assessed_at as ps_fit_assessed_at, ps.issuer_org as ps_issuer_org, ps.issuer_org_type as ps_issuer_org_type,
      ps.reviewer_role as ps_reviewer_role, ps.reviewed_at as ps_reviewed_at, ps.erased_at as ps_erased_at,
      (select min(planned_start) from task
        where patient_id = t.id and code = 'departure' and status in ${OPEN_DEPARTURE}) as departure
    from (${patientTarget(selector)}) t
    cross join lateral (${relationshipColumns(sql`t.id`, caller.org, now)}) r
    left join lateral (
      select * from perspective where patient_id = t.id and erased_at is null order by version desc limit 1
    ) ps on true`.execute(db)
  const row = rows[0]
  if (!row) return { patientId: undefined, relationship: NO_RELATIONSHIP, consents: [], stored: undefined, departure: undefined }
  const stored: PerspectiveRow | undefined =
    row.ps_bundle_id === null
      ? undefined
      : {
          bundle_id: row.ps_bundle_id,
          patient_id: row.ps_patient_id!,
          version: row.ps_version!,
          flags: row.ps_flags,
          fit_assessed_at: row.ps_fit_assessed_at,
          issuer_org: row.ps_issuer_org!,
          issuer_org_type: row.ps_issuer_org_type!,
          reviewer_role: row.ps_reviewer_role!,
          reviewed_at: row.ps_reviewed_at!,
          erased_at: row.ps_erased_at,
        }
  return {
    patientId: row.patient_id,
    relationship: toRelationshipFact(row),
    consents: consentFacts(row.consents),
    stored,
    departure: row.departure === null ? undefined : new Date(row.departure),
  }
}

export interface DossierReadFacts {
  patientId: string | undefined
  /** The version asked for (or the current one), with its encrypted content. */
  version: BundleVersionRow | undefined
  /** The patient's wrapped data key, unwrapped only on a permit; null once erasure destroyed it. */
  wrappedKey: string | null
  consents: ConsentFact[]
  emergencyWindowOpen: boolean
  relationship: RelationshipFact
}

/**
 * The dossier read's facts: the version asked for (by its id, or the patient's current one), the
 * patient's wrapped data key, the consents (for a caregiver), whether the caller has an open
 * emergency window (only when asked: a caregiver with neither a token nor an emergency reason),
 * and the caller's organisation's relationships (for reading back one's own upload by its id).
 */
export async function dossierReadFacts(
  db: Executor,
  target: { bundleId: string } | { patientId: string },
  caller: { principal: Pick<Principal, 'issuer' | 'sub' | 'org' | 'big'>; caregiver: boolean; askEmergencyWindow: boolean },
  now: Date,
): Promise<DossierReadFacts> {
  const { principal } = caller
  const versionAndPatient =
    'bundleId' in target
      ? sql`(select * from bundle_version where id = ${target.bundleId} and content is not null) bv
          cross join lateral (select bv.patient_id as id) t`
      : sql`(select id from patient where id = ${target.patientId} and erased_at is null) t
          left join lateral (
            select * from bundle_version where patient_id = t.id and content is not null order by version desc limit 1
          ) bv on true`
  const emergency = caller.askEmergencyWindow
    ? sql`exists (select 1 from emergency_access e
        where e.patient_id = t.id and e.issuer = ${principal.issuer} and e.user_id = ${principal.sub} and e.org_id = ${principal.org}
          and e.big_number is not distinct from ${principal.big ?? null} and e.expires_at > ${now})`
    : sql`false`
  const { rows } = await sql<
    RelationshipColumns & { patient_id: string; wrapped_key: string | null; consents: ConsentJson[] | null; emergency_window_open: boolean } & {
      [K in keyof BundleVersionRow as `bv_${K}`]: BundleVersionRow[K] | null
    }
  >`
    select t.id as patient_id, k.wrapped_key,
      bv.id as bv_id, bv.patient_id as bv_patient_id, bv.version as bv_version, bv.bundle_type as bv_bundle_type,
      bv.content as bv_content, bv.content_bytes as bv_content_bytes, bv.entry_count as bv_entry_count,
      bv.uploaded_at as bv_uploaded_at, bv.uploaded_by_org as bv_uploaded_by_org,
      bv.uploaded_by_org_type as bv_uploaded_by_org_type, bv.uploaded_by_user as bv_uploaded_by_user,
      ${caller.caregiver ? CONSENTS_OF_T : sql`'[]'::json`} as consents,
      ${emergency} as emergency_window_open,
      r.*
    from ${versionAndPatient}
    left join patient_key k on k.patient_id = t.id
    cross join lateral (${relationshipColumns(sql`t.id`, principal.org, now)}) r`.execute(db)
  const row = rows[0]
  const version: BundleVersionRow | undefined =
    row && row.bv_id !== null
      ? {
          id: row.bv_id,
          patient_id: row.bv_patient_id!,
          version: row.bv_version!,
          bundle_type: row.bv_bundle_type!,
          content: row.bv_content,
          content_bytes: row.bv_content_bytes!,
          entry_count: row.bv_entry_count!,
          uploaded_at: row.bv_uploaded_at!,
          uploaded_by_org: row.bv_uploaded_by_org!,
          uploaded_by_org_type: row.bv_uploaded_by_org_type!,
          uploaded_by_user: row.bv_uploaded_by_user!,
        }
      : undefined
  return {
    patientId: row?.patient_id ?? undefined,
    version,
    wrappedKey: row?.wrapped_key ?? null,
    consents: consentFacts(row?.consents),
    emergencyWindowOpen: row?.emergency_window_open === true,
    relationship: toRelationshipFact(row),
  }
}

export interface UploadFacts {
  /** The patient row was found (erased or not) and is now locked for the transaction. */
  found: boolean
  live: boolean
  consents: ConsentFact[]
  relationship: RelationshipFact
}

/**
 * The upload's facts about the patient its V-nummer names, in one statement that also takes the
 * patient's row lock (withdrawal and refusal take it too, so an upload cannot slip in after a
 * withdrawal that committed first): whether the patient is live, the consents and the caller's
 * organisation's relationships.
 */
export async function uploadFacts(db: Executor, patientId: string, org: string, now: Date): Promise<UploadFacts> {
  const { rows } = await sql<RelationshipColumns & { erased: boolean; consents: ConsentJson[] | null }>`
    select t.erased_at is not null as erased, case when t.erased_at is null then ${CONSENTS_OF_T} else '[]'::json end as consents, r.*
    from patient t
    cross join lateral (${relationshipColumns(sql`t.id`, org, now)}) r
    where t.id = ${patientId}
    for update of t`.execute(db)
  const row = rows[0]
  if (!row) return { found: false, live: false, consents: [], relationship: NO_RELATIONSHIP }
  const live = !row.erased
  return { found: true, live, consents: live ? consentFacts(row.consents) : [], relationship: live ? toRelationshipFact(row) : NO_RELATIONSHIP }
}
