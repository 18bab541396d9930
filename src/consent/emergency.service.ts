import { auditDecision, type AuditContext } from '../audit/audit.service.js'
import type { Deps } from '../deps.js'
import { decryptContent } from '../patient/envelope.js'
import { dataKeyForReading } from '../patient/data-keys.js'
import { badRequest, conflict, notFound } from '../fhir/outcome.js'
import { withDecision } from '../access/enforce.js'
import { NO_RELATIONSHIP } from '../access/policy.js'
import { relationshipFact } from '../access/relationships.js'

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

/**
 * The privacy officer's review queue: the emergency access by its own organisation's caregivers,
 * and the emergency access to patients its organisation is or was custodian of (the dossier holder
 * sees who broke the glass on its records). Reading it is an audited decision like any other, with
 * one entry per patient whose reason is shown.
 */
export async function listEmergencyReviews(deps: Deps, ctx: AuditContext, status: 'open' | 'closed' | undefined) {
  const org = ctx.principal.org
  return withDecision(deps, ctx, {
    action: 'emergency.review',
    gather: async () => ({ facts: {}, subject: {}, data: undefined }),
    act: async (trx, decision) => {
      let query = trx
        .selectFrom('emergency_access')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('org_id', '=', org),
            eb('patient_id', 'in', eb.selectFrom('care_relationship').select('patient_id').where('org', '=', org).where('kind', '=', 'custodian')),
          ]),
        )
        .orderBy('opened_at', 'asc')
      if (status) query = query.where('review_status', '=', status)
      const reviews: EmergencyReview[] = []
      for (const row of await query.execute()) {
        const key = await dataKeyForReading(trx, deps.masterKey, row.patient_id)
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
        // Each reason shown is a read of that patient's data: an entry in their access log.
        await auditDecision(trx, deps, ctx, { action: 'emergency.review', decision, patientId: row.patient_id, resourceType: 'EmergencyReview', resourceId: row.id, detail: { read: 'reason' } })
      }
      return { result: reviews, audit: { detail: { listed: reviews.length } } }
    },
  })
}

/**
 * Closes a review. The privacy officer of an organisation that is or was the patient's custodian
 * judges emergency access to its records; the accessing organisation's own officer sees the review
 * but does not close it (nobody reviews itself).
 */
export async function closeEmergencyReview(
  deps: Deps,
  ctx: AuditContext,
  id: string,
  conclusion: string,
  note: string | undefined,
): Promise<void> {
  const { clock } = deps
  if (!(REVIEW_CONCLUSIONS as readonly string[]).includes(conclusion)) {
    throw badRequest(`conclusion must be one of ${REVIEW_CONCLUSIONS.join(', ')}`, ['conclusion'])
  }
  await withDecision(deps, ctx, {
    action: 'emergency.review',
    gather: async (trx) => {
      const row = await trx.selectFrom('emergency_access').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
      const relationship = row ? await relationshipFact(trx, row.patient_id, ctx.principal.org, clock.now()) : NO_RELATIONSHIP
      return {
        facts: { patientExists: row !== undefined, relationship },
        subject: { patientId: row?.patient_id, resourceType: 'EmergencyReview', resourceId: id },
        data: row,
      }
    },
    act: async (trx, _decision, row) => {
      if (!row) throw notFound('No such emergency review')
      if (row.review_status === 'closed') throw conflict('This emergency review is already closed')
      await trx
        .updateTable('emergency_access')
        .set({ review_status: 'closed', reviewed_by: ctx.principal.sub, reviewed_at: clock.now(), review_conclusion: conclusion, review_note: note ?? null })
        .where('id', '=', id)
        .execute()
      return { result: undefined, audit: { detail: { conclusion } } }
    },
  })
}
