import { logJobFailure } from '../db/database.js'
import { sql } from 'kysely'
import { auditSystemEvent, type AuditContext } from '../audit/audit.service.js'
import { withDecision } from '../access/enforce.js'
import { NO_RELATIONSHIP } from '../access/policy.js'
import type { Deps } from '../deps.js'
import { badRequest } from '../fhir/outcome.js'
import { lockPatient } from '../patient/patient.repository.js'
import { relationshipFact } from '../access/relationships.js'
import { erasePatientData, findExpiredPatients } from './erasure.js'

export interface RetentionResult {
  ran: boolean
  erasedPatients: number
  erasedBundles: number
  partitionsEnsured: number
}

const DAY_MS = 24 * 3600_000

/**
 * The daily retention job. Safe with several instances: the first to claim today's `job_run` row
 * runs it, the others skip. Makes the coming months' audit partitions, erases expired exchange
 * copies (one transaction per patient), and records what it did in the audit log.
 */
export async function runRetentionIfDue(deps: Deps): Promise<RetentionResult> {
  try {
    const result = await runRetention(deps)
    deps.metrics.retentionRuns.inc({ outcome: result.ran ? 'done' : 'skipped' })
    return result
  } catch (err) {
    deps.metrics.retentionRuns.inc({ outcome: 'failed' })
    throw err
  }
}

async function runRetention(deps: Deps): Promise<RetentionResult> {
  const { db, clock, logger } = deps
  const now = clock.now()
  const day = now.toISOString().slice(0, 10)
  const claimed = await db
    .insertInto('job_run')
    .values({ name: 'retention', run_on: day, started_at: now, finished_at: null, result: null })
    .onConflict((oc) => oc.columns(['name', 'run_on']).doNothing())
    .returning('name')
    .executeTakeFirst()
  if (!claimed) return { ran: false, erasedPatients: 0, erasedBundles: 0, partitionsEnsured: 0 }

  let partitionsEnsured = 0
  for (let m = 0; m <= 3; m++) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + m, 1)).toISOString().slice(0, 10)
    await sql`select audit_event_create_partition(${month}::date)`.execute(db)
    partitionsEnsured++
  }

  const cutoff = new Date(now.getTime() - deps.settings.retentionMs)
  let erasedPatients = 0
  let erasedBundles = 0
  const seen = new Set<string>()
  for (;;) {
    const batch = (await findExpiredPatients(db, cutoff, 100)).filter((id) => !seen.has(id))
    if (batch.length === 0) break
    for (const patientId of batch) {
      seen.add(patientId)
      await db.transaction().execute(async (trx) => {
        // Checked again under the patient's lock: an upload or task may have arrived since the search.
        await trx.selectFrom('patient').select('id').where('id', '=', patientId).forUpdate().execute()
        if ((await findExpiredPatients(trx, cutoff, 1, patientId)).length === 0) return
        const { bundles } = await erasePatientData(trx, patientId, clock.now())
        await auditSystemEvent(trx, deps, {
          eventType: 'patient.erase',
          action: 'D',
          reason: 'retention-expired',
          patientId,
          detail: { bundles, retentionDays: Math.round(deps.settings.retentionMs / DAY_MS) },
        })
        erasedPatients++
        erasedBundles += bundles
      })
    }
  }
  const result = { erasedPatients, erasedBundles, partitionsEnsured }
  await auditSystemEvent(db, deps, { eventType: 'retention.run', action: 'E', reason: 'scheduled', detail: result })
  await db
    .updateTable('job_run')
    .set({ finished_at: clock.now(), result: JSON.stringify(result) })
    .where('name', '=', 'retention')
    .where('run_on', '=', day)
    .execute()
  logger.info({ job: 'retention', ...result }, 'retention run finished')
  return { ran: true, ...result }
}

/** Starts the daily job inside the service: checked every hour, run once a day by one instance. */
export function scheduleRetention(deps: Deps, everyMs = 3600_000): () => void {
  let running = false
  const tick = async () => {
    if (running) return
    running = true
    try {
      await runRetentionIfDue(deps)
    } catch (err) {
      logJobFailure(deps.logger, 'retention', err, 'retention run failed')
    } finally {
      running = false
    }
  }
  const first = setTimeout(tick, 10_000)
  const timer = setInterval(tick, everyMs)
  first.unref()
  timer.unref()
  return () => {
    clearTimeout(first)
    clearInterval(timer)
  }
}

/** An erasure request, carried out at once by the privacy officer (AVG art. 17; BW 7:455). */
export async function erasePatient(deps: Deps, ctx: AuditContext, patientId: string, reason: string | undefined) {
  if (!reason || reason.trim().length < 10) throw badRequest('A reason of at least 10 characters is required', ["Parameters.parameter.where(name='reason')"])
  return withDecision(deps, ctx, {
    action: 'patient.erase',
    purpose: 'privacy-oversight',
    gather: async (trx) => {
      const patient = await lockPatient(trx, patientId)
      const relationship = patient ? await relationshipFact(trx, patientId, ctx.principal.org, deps.clock.now()) : NO_RELATIONSHIP
      return {
        facts: { patientExists: patient !== undefined, relationship },
        subject: { patientId: patient?.id, resourceType: 'Patient', resourceId: patientId },
        data: undefined,
      }
    },
    act: async (trx) => {
      const { bundles } = await erasePatientData(trx, patientId, deps.clock.now())
      return { result: { bundles }, audit: { detail: { bundles, request: 'erasure' } } }
    },
  })
}
