import { randomUUID } from 'node:crypto'
import type { Bundle } from '@medplum/fhirtypes'
import type { AuditContext } from '../audit/audit.service.js'
import { DOSSIER_VERSION_EXTENSION, SYSTEM } from '../fhir/systems.js'
import { refuseUnlessMayAttempt, withDecision } from '../access/enforce.js'
import { announceDossierVersion } from '../outbox/outbox.js'
import { openEmergencyWindow } from '../access/facts.js'
import { dossierReadFacts, uploadFacts } from '../access/patient-facts.js'
import { NO_RELATIONSHIP, excludedForEveryRecipient } from '../access/policy.js'
import { relationshipFact } from '../access/relationships.js'
import type { Deps } from '../deps.js'
import { conflict, notFound, OutcomeError, issue } from '../fhir/outcome.js'
import { findBundleVersion, findCurrentBundleVersion, insertBundleVersion, listBundleVersions, nextBundleVersion } from './bundle.repository.js'
import { listDossierOpens } from '../audit/audit.repository.js'
import { dataKeyForWriting } from '../patient/data-keys.js'
import { decryptContent, encryptContent, unwrapDataKey } from '../patient/envelope.js'
import type { HandoverSubject } from './intake.js'
import {
  addPatientIdentifiers,
  findPatient,
  findIdentifierHolders,
  type PatientIdentifier,
} from '../patient/patient.repository.js'
import { tokenSettings, verifyConsentToken } from '../consent/consent-token.js'
import type { BundleVersionRow } from '../db/schema.js'
import type { TokenFact } from '../access/policy.js'
import { storePerspective } from '../perspective/perspective.service.js'
import { excludedEntries, minimiseBundle } from './minimise.js'

export interface StoredBundle {
  id: string
  patientId: string
  version: number
  lastUpdated: Date
  /** The bundle as stored, JSON text with the server's id and meta. */
  text: string
}

/**
 * Decides what the caller's role and organisation type allow before a body is read: a caller who
 * could never upload is refused (and audited) before a byte of the bundle is parsed or validated.
 */
export async function authoriseUploadAttempt(deps: Deps, ctx: AuditContext): Promise<void> {
  await refuseUnlessMayAttempt(deps, ctx, 'dossier.upload', { resourceType: 'Bundle' })
}

/** P5: stores a new version of the patient's dossier, encrypted with the patient's data key. Custodians only. */
export async function uploadBundle(
  deps: Deps,
  ctx: AuditContext,
  bundle: Bundle,
  subject: HandoverSubject,
  options: { ownCopy?: boolean } = {},
): Promise<StoredBundle> {
  const { clock } = deps
  const id = randomUUID()
  return withDecision(deps, ctx, {
    action: 'dossier.upload',
    gather: async (trx) => {
      // The V-nummer names the patient. Another identifier (a BSN) that already belongs to another
      // patient is not attached (addPatientIdentifiers keeps the first holder); only a custodian of
      // that other patient too is told, as it can resolve it. Nobody else learns whose BSN it is.
      // One statement for the holders of all the identifiers; the V-nummer's holder is among them.
      const holders = await findIdentifierHolders(trx, subject.identifiers)
      const patientId = holders.find((h) => h.system === SYSTEM.vNummer)?.patient_id
      const others = [...new Set(holders.map((h) => h.patient_id))].filter((id) => id !== patientId)
      if (patientId) {
        for (const other of others) {
          if ((await relationshipFact(trx, other, ctx.principal.org, clock.now())).custodian) {
            throw conflict("The patient's identifiers belong to different patients of your organisation; resolve this before uploading")
          }
        }
      }
      // Decided under the patient's lock, which withdrawal and refusal take too: an upload cannot
      // slip in after a withdrawal that committed first.
      // The lock, the consents and the relationships in one statement.
      const { live, consents, relationship } = patientId ? await uploadFacts(trx, patientId, ctx.principal.org, clock.now()) : { live: false, consents: [], relationship: NO_RELATIONSHIP }
      const nobodyMay = excludedForEveryRecipient(consents, 'handover', clock.now())
      const excluded = nobodyMay.labels.length + nobodyMay.classes.length > 0 ? excludedEntries(bundle, nobodyMay, deps.settings.sensitiveCategories) : []
      return {
        facts: { patientExists: live, consents, relationship, excludedEntries: excluded.length, ownCopyConfirmed: options.ownCopy === true },
        // The log counts the entries, never says what they hold.
        subject: { patientId, resourceType: 'Bundle', ...(excluded.length > 0 ? { detail: { excludedEntries: excluded.length, ownCopy: options.ownCopy === true } } : {}) },
        data: patientId,
        expression: excluded.map((i) => `Bundle.entry[${i}]`),
      }
    },
    act: async (trx, _decision, patientId, facts) => {
      const now = clock.now()
      await addPatientIdentifiers(trx, patientId!, subject.identifiers)
      const version = await nextBundleVersion(trx, patientId!)
      // Each upload is a Bundle of its own: its FHIR version is 1; the patient's dossier version is a meta extension.
      const extension = [...(bundle.meta?.extension ?? []).filter((e) => e.url !== DOSSIER_VERSION_EXTENSION), { url: DOSSIER_VERSION_EXTENSION, valueInteger: version }]
      const stored: Bundle = { ...bundle, id, meta: { ...bundle.meta, versionId: '1', lastUpdated: now.toISOString(), extension } }
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
      await storePerspective(trx, stored, { bundleId: id, patientId: patientId!, version }, ctx.principal, facts.big?.profession, now)
      await announceDossierVersion(trx, patientId!, ctx.principal.org, now)
      return { result: { id, patientId: patientId!, version, lastUpdated: now, text }, audit: { resourceId: id, detail: { version } } }
    },
  })
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
  const { clock } = deps
  const emergency = options.emergencyReason !== undefined
  const caregiver = ctx.principal.role === 'caregiver'
  // A presented consent token is verified while the facts are gathered; its verdict counts only
  // where the dossier exists. An emergency read gathers inside a transaction, where the key ring's
  // own reads could not run on the embedded database's one connection: its token is verified first.
  const verifying =
    caregiver && options.consentToken !== undefined ? verifyConsentToken(options.consentToken, deps.consentKeys, tokenSettings(deps), clock) : Promise.resolve(undefined)
  verifying.catch(() => {})
  if (emergency) await verifying
  return withDecision(deps, ctx, {
    action: 'dossier.read',
    purpose: 'handover',
    // Only opening an emergency window writes more than the audit entry.
    readOnly: !emergency,
    gather: async (db) => {
      // The target is looked up for every caller, so the audit entry names the patient even when
      // the caller is refused; the answer to a refused caller does not depend on it (P3: 404 either way).
      // One statement gathers the version, the wrapped data key and the facts.
      const [found, presented] = await Promise.all([
        dossierReadFacts(
          db,
          target,
          { principal: ctx.principal, caregiver, askEmergencyWindow: caregiver && !emergency && options.consentToken === undefined },
          clock.now(),
        ),
        verifying,
      ])
      const row = found.version
      const patientId = found.patientId
      const exists = row !== undefined && patientId !== undefined
      const couldRead = caregiver && exists
      const token: TokenFact | undefined = couldRead ? presented : undefined
      const consents = couldRead ? found.consents : []
      const emergencyWindowOpen = couldRead && found.emergencyWindowOpen
      // Reading back one's own upload by its id needs custody still: decided on only when it could apply.
      const uploadedByCaller = couldRead && 'bundleId' in target && row!.uploaded_by_org === ctx.principal.org
      return {
        facts: {
          patientExists: exists,
          ...(uploadedByCaller ? { uploadedByCaller, relationship: found.relationship } : {}),
          ...(patientId ? { patientId } : {}),
          consents,
          ...(token ? { token } : {}),
          ...(emergency ? { emergencyReason: options.emergencyReason! } : {}),
          emergencyWindowOpen,
        },
        subject: { patientId, resourceType: 'Bundle', resourceId: row?.id },
        data: { row, wrappedKey: found.wrappedKey },
        ...(token && !token.valid ? { problem: token.problem } : {}),
      }
    },
    act: async (db, decision, { row, wrappedKey }) => {
      const version = row!
      if (wrappedKey === null || version.content === null) throw notFound()
      const key = await unwrapDataKey(wrappedKey, deps.masterKey, version.patient_id)
      let text = await decryptContent(version.content, key, version.id)
      // Minimised release: what the patient's consent excludes for this recipient is left out.
      let withheld: number | undefined
      if (decision.obligations.includes('withhold-content') && decision.withhold) {
        const stored = JSON.parse(text) as Bundle
        const released = minimiseBundle(stored, decision.withhold, deps.settings.sensitiveCategories)
        withheld = (stored.entry?.length ?? 0) - (released.entry?.length ?? 0)
        text = JSON.stringify(released)
      }
      // The window and the entry that records it commit together, or neither does.
      if (decision.obligations.includes('open-emergency-window')) {
        await openEmergencyWindow(db, deps, ctx.principal, version.patient_id, options.emergencyReason!, key)
        deps.metrics.emergencyAccessOpened.inc()
      }
      return {
        result: { id: version.id, patientId: version.patient_id, version: version.version, lastUpdated: version.uploaded_at, text },
        // The log says how much was left out (for the privacy officer), never what.
        audit: { detail: { version: version.version, ...(withheld !== undefined ? { minimised: true, withheldEntries: withheld } : {}) } },
      }
    },
  })
}

export const unreadable = () => new OutcomeError(404, [issue('not-found', 'Resource not found')])

export interface DossierHistory {
  versions: { version: number; uploadedAt: Date; byOrg: string; byOrgType: string }[]
  /** The read receipts: when another organisation opened the dossier (organisation and time only). */
  opens: { org: string; orgType: string; at: Date }[]
}

/** The read receipts a patient page shows; the full trail is the privacy officer's access log. */
const DOSSIER_OPENS_SHOWN = 50

/**
 * The patient's dossier versions and who opened the dossier, for the patient's custodians.
 *
 * No action of its own: this is the custodian's view of the record it keeps, and 'consent.read'
 * has exactly that rule (caregivers of a care organisation that is the patient's custodian, BIG
 * confirmed; an unknown or another's patient refused as for the consent records). The answer holds
 * no content: version numbers, times and organisations. A receiver or task party, who may read the
 * dossier itself, does not learn through this who else opened it.
 */
export async function readDossierHistory(deps: Deps, ctx: AuditContext, patientId: string): Promise<DossierHistory> {
  return withDecision(deps, ctx, {
    action: 'consent.read',
    readOnly: true,
    gather: async (db) => {
      const patient = await findPatient(db, patientId)
      const relationship = patient ? await relationshipFact(db, patient.id, ctx.principal.org, deps.clock.now()) : NO_RELATIONSHIP
      return { facts: { patientExists: patient !== undefined, relationship }, subject: { patientId: patient?.id, resourceType: 'Bundle' }, data: undefined }
    },
    act: async (db) => {
      const versions = (await listBundleVersions(db, patientId)).map((r) => ({
        version: r.version,
        uploadedAt: new Date(r.uploaded_at as unknown as string),
        byOrg: r.uploaded_by_org,
        byOrgType: r.uploaded_by_org_type,
      }))
      const opens = (await listDossierOpens(db, patientId, ctx.principal.org, DOSSIER_OPENS_SHOWN)).map((r) => ({
        org: r.org_id,
        orgType: r.org_type,
        at: new Date(r.occurred_at as unknown as string),
      }))
      return { result: { versions, opens }, audit: { detail: { versions: versions.length, opens: opens.length } } }
    },
  })
}
