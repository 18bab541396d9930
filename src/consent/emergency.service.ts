import { randomUUID } from 'node:crypto'
import type { Executor } from '../db/executor.js'
import { auditDecision, type AuditContext } from '../audit/audit.service.js'
import type { Deps } from '../deps.js'
import { decryptContent, encryptContent } from '../patient/envelope.js'
import { dataKeyForReading } from '../patient/data-keys.js'
import { badRequest, conflict, notFound } from '../fhir/outcome.js'
import { decideOrDeny } from '../access/enforce.js'

/** P2: opens a break-the-glass window for this caller and patient, and a review for the privacy officer. */
export async function openEmergencyWindow(
  db: Executor,
  deps: Deps,
  ctx: AuditContext,
  patientId: string,
  reason: string,
  dataKey: Uint8Array,
): Promise<void> {
  const now = deps.clock.now()
  const id = randomUUID()
  await db
    .insertInto('emergency_access')
    .values({
      id,
      patient_id: patientId,
      user_id: ctx.principal.sub,
      org_id: ctx.principal.org,
      org_type: ctx.principal.orgType,
      big_number: ctx.principal.big ?? null,
      issuer: ctx.principal.issuer,
      reason: await encryptContent(reason.trim(), dataKey, `emergency:${id}`),
      opened_at: now,
      expires_at: new Date(now.getTime() + deps.settings.emergencyWindowMs),
      review_status: 'open',
      reviewed_by: null,
      reviewed_at: null,
      review_conclusion: null,
      review_note: null,
    })
    .execute()
}

export interface EmergencyReview {
  id: string
  patientId: string
  userId: string
  organisation: string
  organisationType: string
  bigNumber: string | null
  reason: string | null
  openedAt: string
  windowEndsAt: string
  status: 'open' | 'closed'
  reviewedBy: string | null
  reviewedAt: string | null
  conclusion: string | null
  note: string | null
}

export const REVIEW_CONCLUSIONS = ['justified', 'unjustified'] as const

/** The privacy officer's review queue. Reading it is an audited decision like any other. */
export async function listEmergencyReviews(deps: Deps, ctx: AuditContext, status: 'open' | 'closed' | undefined) {
  const { db, clock } = deps
  const decision = await decideOrDeny(db, deps, ctx, { principal: ctx.principal, action: 'emergency.review' }, {}, {})
  // A privacy officer reviews the emergency access of its own organisation's caregivers.
  let query = db.selectFrom('emergency_access').selectAll().where('org_id', '=', ctx.principal.org).orderBy('opened_at', 'asc')
  if (status) query = query.where('review_status', '=', status)
  const rows = await query.execute()
  const reviews: EmergencyReview[] = []
  for (const row of rows) {
    const key = await dataKeyForReading(db, deps.masterKey, row.patient_id)
    const reason = key && row.reason ? await decryptContent(row.reason, key, `emergency:${row.id}`) : null
    reviews.push({
      id: row.id,
      patientId: row.patient_id,
      userId: row.user_id,
      organisation: row.org_id,
      organisationType: row.org_type,
      bigNumber: row.big_number,
      reason,
      openedAt: row.opened_at.toISOString(),
      windowEndsAt: row.expires_at.toISOString(),
      status: row.review_status,
      reviewedBy: row.reviewed_by,
      reviewedAt: row.reviewed_at?.toISOString() ?? null,
      conclusion: row.review_conclusion,
      note: row.review_note,
    })
  }
  // Each reason shown is a read of that patient's data: one entry per patient, in their access log.
  await db.transaction().execute(async (trx) => {
    for (const review of reviews) {
      await auditDecision(trx, deps, ctx, { action: 'emergency.review', decision, patientId: review.patientId, resourceType: 'EmergencyReview', resourceId: review.id, detail: { read: 'reason' } })
    }
    if (reviews.length === 0) await auditDecision(trx, deps, ctx, { action: 'emergency.review', decision, detail: { listed: 0 } })
  })
  return reviews
}

export async function closeEmergencyReview(
  deps: Deps,
  ctx: AuditContext,
  id: string,
  conclusion: string,
  note: string | undefined,
): Promise<void> {
  const { db, clock } = deps
  if (!(REVIEW_CONCLUSIONS as readonly string[]).includes(conclusion)) {
    throw badRequest(`conclusion must be one of ${REVIEW_CONCLUSIONS.join(', ')}`, ['conclusion'])
  }
  const target = await db.selectFrom('emergency_access').select(['org_id', 'patient_id']).where('id', '=', id).executeTakeFirst()
  const decision = await decideOrDeny(
    db,
    deps,
    ctx,
    { principal: ctx.principal, action: 'emergency.review' },
    { ...(target ? { ownOrganisation: target.org_id === ctx.principal.org } : {}) },
    { patientId: target?.patient_id, resourceType: 'EmergencyReview', resourceId: id },
  )
  await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('emergency_access').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
    if (!row) throw notFound('No such emergency review')
    if (row.review_status === 'closed') throw conflict('This emergency review is already closed')
    await trx
      .updateTable('emergency_access')
      .set({
        review_status: 'closed',
        reviewed_by: ctx.principal.sub,
        reviewed_at: clock.now(),
        review_conclusion: conclusion,
        review_note: note ?? null,
      })
      .where('id', '=', id)
      .execute()
    await auditDecision(trx, deps, ctx, {
      action: 'emergency.review',
      decision,
      patientId: row.patient_id,
      resourceType: 'EmergencyReview',
      resourceId: id,
      detail: { conclusion },
    })
  })
}
