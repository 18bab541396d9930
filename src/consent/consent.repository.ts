import type { Insertable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { ConsentRow, ConsentTable } from '../db/schema.js'
import type { ConsentFact, Period, ProvisionFact } from '../access/policy.js'

export const insertConsent = (db: Executor, row: Insertable<ConsentTable>) => db.insertInto('consent').values(row).execute()

export const findConsent = (db: Executor, id: string) =>
  db.selectFrom('consent').selectAll().where('id', '=', id).executeTakeFirst()

export const lockConsent = (db: Executor, id: string) =>
  db.selectFrom('consent').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

/** Every consent record of a patient, in the order the service received them. Read on every decision: never cached. */
export const listConsentsOfPatient = (db: Executor, patientId: string) =>
  db.selectFrom('consent').selectAll().where('patient_id', '=', patientId).orderBy('received_at', 'asc').orderBy('id', 'asc').execute()

export const markConsentWithdrawn = (db: Executor, id: string, now: Date, version: number, resource: string) =>
  db
    .updateTable('consent')
    .set({ status: 'inactive', withdrawn_at: now, updated_at: now, version, resource })
    .where('id', '=', id)
    .execute()

interface StoredPeriod {
  start?: string
  end?: string
}
interface StoredProvision {
  type: 'permit' | 'deny'
  purposes: string[]
  actors: ProvisionFact['actors']
  period?: StoredPeriod
}

const toPeriod = (p: StoredPeriod | undefined): Period | undefined =>
  p ? { ...(p.start ? { start: new Date(p.start) } : {}), ...(p.end ? { end: new Date(p.end) } : {}) } : undefined

export function storedProvisions(provisions: readonly ProvisionFact[]): string {
  return JSON.stringify(
    provisions.map((p) => ({
      type: p.type,
      purposes: p.purposes,
      actors: p.actors,
      ...(p.period
        ? { period: { ...(p.period.start ? { start: p.period.start.toISOString() } : {}), ...(p.period.end ? { end: p.period.end.toISOString() } : {}) } }
        : {}),
    })),
  )
}

export function rowToConsentFact(row: ConsentRow): ConsentFact {
  const provisions = (row.provisions as StoredProvision[]).map((p) => {
    const period = toPeriod(p.period)
    return { type: p.type, purposes: p.purposes, actors: p.actors, ...(period ? { period } : {}) }
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
