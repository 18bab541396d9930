import { randomUUID } from 'node:crypto'
import type { Bundle } from '@medplum/fhirtypes'
import { auditDecision, type AuditContext } from '../audit/audit.service.js'
import { caregiverFact, decideOrDeny, denial } from '../access/enforce.js'
import { decide } from '../access/policy.js'
import { consentFactsOfPatient } from '../consent/consent.repository.js'
import type { Deps } from '../deps.js'
import { conflict, notFound, OutcomeError, issue } from '../fhir/outcome.js'
import { findBundleVersion, findCurrentBundleVersion, insertBundleVersion, nextBundleVersion } from './bundle.repository.js'
import { dataKeyForReading, dataKeyForWriting } from '../patient/data-keys.js'
import { decryptContent, encryptContent } from '../patient/envelope.js'
import type { HandoverSubject } from './intake.js'
import {
  addPatientIdentifiers,
  findPatient,
  findPatientIdsByIdentifiers,
  lockPatient,
  type PatientIdentifier,
} from '../patient/patient.repository.js'
import { hasOpenEmergencyWindow, openEmergencyWindow } from '../consent/emergency.service.js'
import { tokenSettings, verifyConsentToken } from '../consent/consent-token.js'
import type { BundleVersionRow } from '../db/schema.js'
import type { TokenFact } from '../access/policy.js'
import { storePerspective } from '../perspective/perspective.service.js'

export interface StoredBundle {
  id: string
  patientId: string
  version: number
  lastUpdated: Date
  /** The bundle as stored, JSON text with the server's id and meta. */
  text: string
}

/** Resolves the patient a set of identifiers points to; 409 when they point to different patients. */
export async function resolvePatientId(deps: Deps, identifiers: readonly PatientIdentifier[]): Promise<string | undefined> {
  const ids = await findPatientIdsByIdentifiers(deps.db, identifiers)
  if (ids.length > 1) throw conflict("The patient's identifiers belong to different patients; resolve this before uploading")
  return ids[0]
}

/** P5: stores a new version of the patient's dossier, encrypted with the patient's data key. */
export async function uploadBundle(deps: Deps, ctx: AuditContext, bundle: Bundle, subject: HandoverSubject): Promise<StoredBundle> {
  const { db, clock } = deps
  const big = await caregiverFact(deps, ctx, 'dossier.upload')
  const patientId = await resolvePatientId(deps, subject.identifiers)
  const request = { principal: ctx.principal, action: 'dossier.upload' as const }
  if (!patientId) {
    // No consent was ever recorded for this patient: refused before anything is locked or written.
    await decideOrDeny(db, deps, ctx, request, { ...(big ? { big } : {}), patientExists: false }, { resourceType: 'Bundle' })
  }

  const id = randomUUID()
  const outcome = await db.transaction().execute(async (trx) => {
    const now = clock.now()
    // Decided under the patient's lock, which withdrawal and refusal take too: an upload cannot
    // slip in after a withdrawal that committed first.
    const patient = await lockPatient(trx, patientId!)
    const consents = patient && patient.erased_at === null ? await consentFactsOfPatient(trx, patientId!) : []
    const facts = { ...(big ? { big } : {}), patientExists: patient !== undefined && patient.erased_at === null, consents }
    const decision = decide(request, facts, now)
    if (decision.effect === 'deny') {
      await auditDecision(trx, deps, ctx, { action: 'dossier.upload', decision, patientId, resourceType: 'Bundle' })
      return { denied: decision, stored: undefined }
    }
    await addPatientIdentifiers(trx, patientId!, subject.identifiers)
    const version = await nextBundleVersion(trx, patientId!)
    const stored: Bundle = {
      ...bundle,
      id,
      meta: { ...bundle.meta, versionId: String(version), lastUpdated: now.toISOString() },
    }
    const text = JSON.stringify(stored)
    const key = await dataKeyForWriting(trx, deps.masterKey, patientId!, now)
    await insertBundleVersion(trx, {
      id,
      patient_id: patientId!,
      version,
      bundle_type: bundle.type,
      content: await encryptContent(text, key, id),
      content_bytes: Buffer.byteLength(text),
      entry_count: bundle.entry?.length ?? 0,
      uploaded_at: now,
      uploaded_by_org: ctx.principal.org,
      uploaded_by_org_type: ctx.principal.orgType,
      uploaded_by_user: ctx.principal.sub,
    })
    await storePerspective(trx, stored, { bundleId: id, patientId: patientId!, version }, ctx.principal, big?.profession, now)
    await auditDecision(trx, deps, ctx, {
      action: 'dossier.upload',
      decision,
      patientId,
      resourceType: 'Bundle',
      resourceId: id,
      detail: { version },
    })
    return { denied: undefined, stored: { id, patientId: patientId!, version, lastUpdated: now, text } }
  })
  if (outcome.denied) throw denial(outcome.denied.reason, 'dossier.upload')
  return outcome.stored!
}

export interface ReadOptions {
  consentToken: string | undefined
  emergencyReason: string | undefined
}

/** P1, P2, P3, P6: releases one bundle version, or the current one, to a caller the policy permits. */
export async function readDossier(
  deps: Deps,
  ctx: AuditContext,
  target: { bundleId: string } | { patientId: string },
  options: ReadOptions,
): Promise<StoredBundle> {
  const { db, clock } = deps
  const big = await caregiverFact(deps, ctx, 'dossier.read')

  // The target is looked up for every caller, so the audit entry names the patient even when the
  // caller is refused; the answer to a refused caller does not depend on it (P3: 404 either way).
  let row: BundleVersionRow | undefined
  let patientId: string | undefined
  const couldRead = ctx.principal.role === 'caregiver' && big?.verified === true
  if ('bundleId' in target) {
    row = await findBundleVersion(db, target.bundleId)
    patientId = row?.patient_id
  } else {
    patientId = (await findPatient(db, target.patientId))?.id
    if (patientId) row = await findCurrentBundleVersion(db, patientId)
  }
  const exists = row !== undefined && patientId !== undefined
  let token: TokenFact | undefined
  if (couldRead && exists && options.consentToken !== undefined) {
    token = await verifyConsentToken(options.consentToken, deps.consentKeys, tokenSettings(deps), clock)
  }
  const consents = couldRead && exists ? await consentFactsOfPatient(db, patientId!) : []
  const emergencyWindowOpen =
    couldRead && exists && options.emergencyReason === undefined && token === undefined
      ? await hasOpenEmergencyWindow(db, patientId!, ctx.principal.sub, clock.now())
      : false

  const decision = await decideOrDeny(db, deps,
    ctx,
    { principal: ctx.principal, action: 'dossier.read', purpose: 'handover' },
    {
      ...(big ? { big } : {}),
      patientExists: exists,
      ...(patientId ? { patientId } : {}),
      consents,
      ...(token ? { token } : {}),
      ...(options.emergencyReason !== undefined ? { emergencyReason: options.emergencyReason } : {}),
      emergencyWindowOpen,
    },
    { patientId, resourceType: 'Bundle', resourceId: row?.id },
    token && !token.valid ? token.problem : undefined,
  )

  const version = row!
  const key = await dataKeyForReading(db, deps.masterKey, version.patient_id)
  if (!key || version.content === null) throw notFound()
  const text = await decryptContent(version.content, key, version.id)
  const entry = {
    action: 'dossier.read' as const,
    decision,
    patientId: version.patient_id,
    resourceType: 'Bundle',
    resourceId: version.id,
    detail: { version: version.version },
  }
  if (decision.obligations.includes('open-emergency-window')) {
    // The window and the entry that records it commit together, or neither does.
    await db.transaction().execute(async (trx) => {
      await openEmergencyWindow(trx, deps, ctx, version.patient_id, options.emergencyReason!, key)
      await auditDecision(trx, deps, ctx, entry)
    })
  } else {
    // Nothing else to write: the entry joins the audit log's group commit (committed before we answer).
    await auditDecision(db, deps, ctx, entry)
  }
  return { id: version.id, patientId: version.patient_id, version: version.version, lastUpdated: version.uploaded_at, text }
}


export const unreadable = () => new OutcomeError(404, [issue('not-found', 'Resource not found')])
