import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Settings } from '../deps.js'
import { encryptContent } from '../patient/envelope.js'
import type { Executor } from '../db/executor.js'
import type { ConsentRow } from '../db/schema.js'
import type { Principal } from '../http/principal.js'
import type { ConsentFact, Period, ProvisionFact } from './policy.js'

/**
 * Queries for the facts that decisions need and more than one feature reads: consents, the stored
 * handelingsperspectief, whether a dossier exists, emergency windows (and
 * opening one, an obligation of the decision). Relationships are in
 * relationships.ts beside this file; the busiest decisions gather their facts in one statement
 * each (patient-facts.ts).
 */

/** Every consent record of a patient, in the order the service received them. Read on every decision: never cached. */
export const listConsentsOfPatient = (db: Executor, patientId: string) =>
  db.selectFrom('consent').selectAll().where('patient_id', '=', patientId).orderBy('received_at', 'asc').orderBy('id', 'asc').execute()

interface StoredPeriod {
  start?: string
  end?: string
}
interface StoredProvision {
  type: 'permit' | 'deny'
  purposes: string[]
  actors: ProvisionFact['actors']
  period?: StoredPeriod
  content?: ProvisionFact['content']
}

const toPeriod = (p: StoredPeriod | undefined): Period | undefined =>
  p ? { ...(p.start ? { start: new Date(p.start) } : {}), ...(p.end ? { end: new Date(p.end) } : {}) } : undefined

export function storedProvisions(provisions: readonly ProvisionFact[]): string {
  return JSON.stringify(
    provisions.map((p) => ({
      type: p.type,
      purposes: p.purposes,
      actors: p.actors,
      ...(p.content ? { content: { labels: p.content.labels, classes: p.content.classes } } : {}),
      ...(p.period
        ? { period: { ...(p.period.start ? { start: p.period.start.toISOString() } : {}), ...(p.period.end ? { end: p.period.end.toISOString() } : {}) } }
        : {}),
    })),
  )
}

export function rowToConsentFact(
  row: Pick<ConsentRow, 'id' | 'status' | 'provisions' | 'received_at' | 'withdrawn_at' | 'period_start' | 'period_end'>,
): ConsentFact {
  const provisions = (row.provisions as StoredProvision[]).map((p) => {
    const period = toPeriod(p.period)
    return { type: p.type, purposes: p.purposes, actors: p.actors, ...(period ? { period } : {}), ...(p.content ? { content: p.content } : {}) }
  })
  const period = toPeriod({
    ...(row.period_start ? { start: row.period_start.toISOString() } : {}),
    ...(row.period_end ? { end: row.period_end.toISOString() } : {}),
  })
  return {
    id: row.id,
    status: row.status,
    // Precedence follows the order of receipt: a refusal recorded after a consent beats it,
    // whatever dates the forms carry.
    recordedAt: row.received_at,
    ...(row.withdrawn_at ? { withdrawnAt: row.withdrawn_at } : {}),
    ...(row.period_start || row.period_end ? { period: period! } : {}),
    provisions,
  }
}

export const consentFactsOfPatient = async (db: Executor, patientId: string) =>
  (await listConsentsOfPatient(db, patientId)).map(rowToConsentFact)

/** The perspective of the patient's current dossier version; reading it never decrypts a dossier. */
export const findCurrentPerspective = (db: Executor, patientId: string) =>
  db
    .selectFrom('perspective')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('erased_at', 'is', null)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst()

/** P2: opens a break-the-glass window for this caller and patient, and a review for the privacy officer. */
export async function openEmergencyWindow(
  db: Executor,
  env: { clock: Clock; settings: Pick<Settings, 'emergencyWindowMs'> },
  principal: Principal,
  patientId: string,
  reason: string,
  dataKey: Uint8Array,
): Promise<void> {
  const now = env.clock.now()
  const id = randomUUID()
  await db
    .insertInto('emergency_access')
    .values({
      id,
      patient_id: patientId,
      user_id: principal.sub,
      org_id: principal.org,
      org_type: principal.orgType,
      big_number: principal.big ?? null,
      issuer: principal.issuer,
      reason: await encryptContent(reason.trim(), dataKey, `emergency:${id}`),
      opened_at: now,
      expires_at: new Date(now.getTime() + env.settings.emergencyWindowMs),
      review_status: 'open',
      reviewed_by: null,
      reviewed_at: null,
      review_conclusion: null,
      review_note: null,
    })
    .execute()
}

/** Whether the patient has a readable dossier version. */
export async function hasCurrentDossier(db: Executor, patientId: string): Promise<boolean> {
  const row = await db.selectFrom('bundle_version').select('id').where('patient_id', '=', patientId).where('content', 'is not', null).limit(1).executeTakeFirst()
  return row !== undefined
}
