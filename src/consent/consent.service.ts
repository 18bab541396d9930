import { randomUUID } from 'node:crypto'
import type { Consent, Identifier, Parameters, Period as FhirPeriod } from '@medplum/fhirtypes'
import type { AuditContext } from '../audit/audit.service.js'
import type { Deps } from '../deps.js'
import { badRequest, conflict, notFound, OutcomeError, issue, unprocessable } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'
import { dataKeyForReading, dataKeyForWriting } from '../patient/data-keys.js'
import { decryptContent, encryptContent } from '../patient/envelope.js'
import { fhirInstant } from '../fhir/instant.js'
import { findOrCreatePatient, findPatient, findPatientIdsByIdentifiers, lockPatient } from '../patient/patient.repository.js'
import { withDecision } from '../access/enforce.js'
import { announceConsentWithdrawn } from '../outbox/outbox.js'
import { deleteShortCodesOfConsent } from './short-code.js'
import { decide, NO_RELATIONSHIP } from '../access/policy.js'
import { addRelationship, relationshipFact } from '../access/relationships.js'
import type { Executor } from '../db/executor.js'
import { issueConsentToken, tokenSettings } from './consent-token.js'
import { parseConsent, referenceToActor } from './consent-resource.js'
import {
  findConsent,
  findConsentVersion,
  insertConsent,
  listConsentVersions,
  listConsentsOfPatient,
  lockConsent,
  markConsentWithdrawn,
  rowToConsentFact,
  storedProvisions,
} from './consent.repository.js'
import { effectiveConsents, type Actor, type ConsentFact } from '../access/policy.js'
import type { ConsentRow } from '../db/schema.js'

export interface RecordedConsent {
  id: string
  version: number
  resource: Consent
  token?: { token: string; expiresAt: Date; patientId: string; consentId: string }
}

export const MAX_TOKEN_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000
/** How far a client's clock may run ahead of ours. */
const CLOCK_SKEW_MS = 5 * 60 * 1000

/** Records a consent or a refusal. The patient is created on first mention, matched by V-nummer. */
export async function recordConsent(deps: Deps, ctx: AuditContext, consent: Consent): Promise<RecordedConsent> {
  const { clock } = deps
  const parsed = parseConsent(consent, { categories: deps.settings.sensitiveCategories, forms: deps.settings.consentForms })
  if ('issues' in parsed) throw unprocessable(parsed.issues)
  if (parsed.recordedAt.getTime() > clock.now().getTime() + CLOCK_SKEW_MS) {
    throw unprocessable([issue('business-rule', 'Consent.dateTime lies in the future', ['Consent.dateTime'])])
  }
  if (!parsed.organizations.includes(ctx.principal.org)) {
    throw unprocessable([issue('business-rule', 'Consent.organization must name your own organisation (the one recording it)', ['Consent.organization'])])
  }
  const id = randomUUID()
  const result = await withDecision(deps, ctx, {
    action: 'consent.record',
    gather: async (trx) => {
      const [existing] = await findPatientIdsByIdentifiers(trx, [parsed.patient])
      const relationship = existing ? await relationshipFact(trx, existing, ctx.principal.org, clock.now()) : NO_RELATIONSHIP
      return { facts: { patientExists: existing !== undefined, relationship }, subject: { patientId: existing, resourceType: 'Consent' }, data: undefined }
    },
    act: async (trx, _decision, _data, facts) => {
      const now = clock.now()
      const [known] = await findPatientIdsByIdentifiers(trx, [parsed.patient])
      const patientId = known ?? (await findOrCreatePatient(trx, parsed.patient, now))
      const patient = await lockPatient(trx, patientId)
      if (!patient || patient.erased_at !== null) throw notFound('This patient has been erased')
      // Decided again under the patient's lock: two organisations recording the first consent at
      // once cannot both become custodian.
      // The same rule, on the facts as they stand under the lock.
      const relationship = await relationshipFact(trx, patientId, ctx.principal.org, now)
      const again = decide({ principal: ctx.principal, action: 'consent.record' }, { ...facts, patientExists: known !== undefined, relationship }, now)
      if (again.effect === 'deny') {
        throw conflict('Another organisation recorded this patient meanwhile; ask its custodian to transfer the patient')
      }
      const resource: Consent = { ...consent, id, meta: { ...consent.meta, versionId: '1', lastUpdated: now.toISOString() } }
      const key = await dataKeyForWriting(trx, deps.masterKey, patientId, now)
      await insertConsent(trx, {
        id,
        patient_id: patientId,
        version: 1,
        status: parsed.status,
        recorded_at: parsed.recordedAt,
        received_at: now,
        withdrawn_at: null,
        period_start: parsed.period?.start ?? null,
        period_end: parsed.period?.end ?? null,
        form_type: parsed.formType ?? null,
        form_version: parsed.formVersion ?? null,
        provisions: storedProvisions(parsed.provisions),
        recorded_by_org: ctx.principal.org,
        recorded_by_user: ctx.principal.sub,
        updated_at: now,
        resource: await encryptContent(JSON.stringify(resource), key, `consent:${id}:1`),
      })
      // The one relationship an organisation establishes for itself: custody of a patient nobody holds.
      if (!relationship.patientHasCustodian) {
        await addRelationship(trx, patientId, ctx.principal.org, 'custodian', { type: 'consent', id, byOrg: ctx.principal.org, byUser: ctx.principal.sub }, now)
      }
      return {
        result: { patientId, resource },
        audit: {
          patientId,
          resourceId: id,
          // What the patient's access log shows of the consent: the form, its language, the interpreter (not their number).
          detail: {
            status: parsed.status,
            ...(relationship.patientHasCustodian ? {} : { custody: 'established' }),
            ...(parsed.formType ? { form: { type: parsed.formType, version: parsed.formVersion, ...(parsed.formLanguage ? { language: parsed.formLanguage } : {}) } } : {}),
            ...(parsed.patientLanguage ? { patientLanguage: parsed.patientLanguage } : {}),
            ...(parsed.interpreter ? { interpreter: { mode: parsed.interpreter.mode, ...(parsed.interpreter.language ? { language: parsed.interpreter.language } : {}) } } : {}),
          },
        },
      }
    },
  })

  const recorded: RecordedConsent = { id, version: 1, resource: result.resource }
  if (parsed.status === 'active' && parsed.provisions.some((p) => p.type === 'permit' && p.purposes.includes('handover'))) {
    const fact = rowToConsentFact((await findConsent(deps.db, id))!)
    recorded.token = await mintToken(deps, result.patientId, fact, undefined, undefined)
  }
  return recorded
}

/** The facts about one consent record: it, its patient's consents and the caller's relationship. */
async function consentFacts(deps: Deps, db: Executor, ctx: AuditContext, id: string, lock: boolean) {
  const row = lock ? await lockConsent(db, id) : await findConsent(db, id)
  const relationship = row ? await relationshipFact(db, row.patient_id, ctx.principal.org, deps.clock.now()) : NO_RELATIONSHIP
  return {
    facts: { patientExists: row !== undefined, relationship },
    subject: { patientId: row?.patient_id, resourceType: 'Consent', resourceId: id },
    data: row,
  }
}

/** P6: withdrawal. Every token issued under the consent fails on its next use. */
export async function withdrawConsent(deps: Deps, ctx: AuditContext, id: string, body: Consent, ifMatch: string | undefined) {
  const { clock } = deps
  if (body.id !== undefined && body.id !== id) throw badRequest('Consent.id must match the id in the URL', ['Consent.id'])
  if (body.status !== 'inactive') {
    throw unprocessable([
      issue('business-rule', 'Only withdrawal (status "inactive") is accepted; record a new Consent for other changes', ['Consent.status']),
    ])
  }
  return withDecision(deps, ctx, {
    action: 'consent.withdraw',
    gather: async (trx) => {
      const found = await findConsent(trx, id)
      // The patient's lock orders this withdrawal against uploads deciding on the same consents.
      if (found) await lockPatient(trx, found.patient_id)
      return consentFacts(deps, trx, ctx, id, true)
    },
    act: async (trx, _decision, row) => {
      if (!row) throw notFound()
      const now = clock.now()
      if (ifMatch !== undefined && ifMatch !== `W/"${row.version}"`) {
        throw new OutcomeError(412, [issue('conflict', 'The consent has changed since you read it (If-Match does not match)')])
      }
      if (row.status === 'rejected') throw conflict('A refusal cannot be withdrawn; record a new consent instead')
      const key = await dataKeyForReading(trx, deps.masterKey, row.patient_id)
      if (!key || row.resource === null) throw notFound()
      const stored = JSON.parse(await decryptContent(row.resource, key, `consent:${id}:${row.version}`)) as Consent
      if (row.status === 'inactive') return { result: { version: row.version, resource: stored }, audit: { detail: { already: 'inactive' } } }
      const version = row.version + 1
      const resource: Consent = { ...stored, status: 'inactive', meta: { ...stored.meta, versionId: String(version), lastUpdated: now.toISOString() } }
      await markConsentWithdrawn(trx, id, now, version, await encryptContent(JSON.stringify(resource), key, `consent:${id}:${version}`))
      await deleteShortCodesOfConsent(trx, id)
      await announceConsentWithdrawn(trx, row.patient_id, ctx.principal.org, now)
      return { result: { version, resource } }
    },
  })
}

/** `$token`: a consent token for a named recipient and period. */
export async function issueTokenForRecipient(deps: Deps, ctx: AuditContext, id: string, params: Parameters) {
  const { db, clock } = deps
  const recipientParam = params.parameter?.find((p) => p.name === 'recipient')
  const periodParam = params.parameter?.find((p) => p.name === 'period')
  const unknown = params.parameter?.find((p) => p.name !== 'recipient' && p.name !== 'period')
  if (unknown) throw badRequest(`Unknown parameter "${unknown.name}"; expected recipient and period`, ['Parameters.parameter'])
  let recipient: Actor | undefined
  if (recipientParam) {
    recipient = referenceToActor({ identifier: recipientParam.valueIdentifier as Identifier })
    if (!recipient) {
      throw badRequest(
        `recipient must be a valueIdentifier with system ${SYSTEM.ura}, ${SYSTEM.big} or ${SYSTEM.organizationType}`,
        ['Parameters.parameter.where(name=\'recipient\')'],
      )
    }
  }
  const period = periodParam?.valuePeriod as FhirPeriod | undefined
  if (periodParam && !period) throw badRequest('period must be a valuePeriod', ["Parameters.parameter.where(name='period')"])

  // A start in the past adds nothing: the token is valid from now.
  const startAt = period?.start ? (fhirInstant(period.start, 'start') ?? new Date(NaN)) : undefined
  const notBefore = startAt && startAt.getTime() > clock.now().getTime() ? startAt : undefined
  const end = period?.end ? (fhirInstant(period.end, 'end') ?? new Date(NaN)) : undefined
  if ((startAt && Number.isNaN(startAt.getTime())) || (end && Number.isNaN(end.getTime()))) {
    throw badRequest('period must have valid start and end instants', ["Parameters.parameter.where(name='period')"])
  }
  if (end && end.getTime() <= clock.now().getTime()) throw badRequest('period.end lies in the past', ["Parameters.parameter.where(name='period')"])
  const decided = await withDecision(deps, ctx, {
    action: 'consent.token',
    gather: (trx) => consentFacts(deps, trx, ctx, id, false),
    act: async (trx, _decision, row) => {
      if (!row) throw notFound()
      const all = (await listConsentsOfPatient(trx, row.patient_id)).map(rowToConsentFact)
      const fact = all.find((c) => c.id === id)!
      if (!effectiveConsents(all, clock.now()).some((c) => c.id === id)) {
        throw new OutcomeError(409, [issue('business-rule', 'This consent is not in force (withdrawn, refused, superseded or outside its period)')])
      }
      // A type of organisation the consent does not name would get a token that opens nothing.
      const orgType = recipient?.orgType
      if (orgType !== undefined && !fact.provisions.some((p) => p.type === 'permit' && (p.purposes.length === 0 || p.purposes.includes('handover')) && p.actors.some((a) => a.orgType === orgType))) {
        throw new OutcomeError(409, [issue('business-rule', `This consent does not permit handover to organisations of type ${orgType}`)])
      }
      const expiresAt = tokenExpiry(deps, fact, { notBefore, end })
      return { result: { patientId: row.patient_id, fact, expiresAt }, audit: { detail: { recipient: recipient ?? null, expiresAt: expiresAt.toISOString() } } }
    },
  })
  // Signed after the decision's transaction, as recordConsent does: the key ring reads its keys
  // through its own connection, which the embedded database (one connection) cannot give while a
  // transaction holds it.
  return mintToken(deps, decided.patientId, decided.fact, recipient, { notBefore, end }, decided.expiresAt)
}

/** When a token under `consent` ends: the default lifetime, or the asked end (at most 30 days), and never after the consent. */
function tokenExpiry(deps: Deps, consent: ConsentFact, window: { notBefore: Date | undefined; end: Date | undefined } | undefined): Date {
  const now = deps.clock.now()
  const limits = [now.getTime() + (window?.end ? MAX_TOKEN_LIFETIME_MS : deps.settings.consentTokenTtlMs)]
  if (window?.end) limits.push(window.end.getTime())
  if (consent.period?.end) limits.push(consent.period.end.getTime())
  return new Date(Math.min(...limits))
}

async function mintToken(
  deps: Deps,
  patientId: string,
  consent: ConsentFact,
  recipient: Actor | undefined,
  window: { notBefore: Date | undefined; end: Date | undefined } | undefined,
  expiresAt: Date = tokenExpiry(deps, consent, window),
) {
  const { token } = await issueConsentToken(deps.consentKeys, tokenSettings(deps), deps.clock, {
    patientId,
    consentId: consent.id,
    purpose: 'handover',
    ...(recipient ? { recipient } : {}),
    ...(window?.notBefore ? { notBefore: window.notBefore } : {}),
    expiresAt,
  })
  return { token, expiresAt, patientId, consentId: consent.id }
}

const rowToResource = (deps: Deps, row: ConsentRow): Promise<Consent | undefined> =>
  versionToResource(deps, row.patient_id, { consent_id: row.id, version: row.version, resource: row.resource })

/** The consent as it is now, or (vread) as it was at `version`. */
export async function readConsent(deps: Deps, ctx: AuditContext, id: string, version?: number): Promise<{ version: number; resource: Consent }> {
  return withDecision(deps, ctx, {
    action: 'consent.read',
    readOnly: true,
    gather: (db) => consentFacts(deps, db, ctx, id, false),
    act: async (db, _decision, row) => {
      if (!row) throw notFound()
      if (version === undefined || version === row.version) {
        const resource = await rowToResource(deps, row)
        if (!resource) throw notFound()
        return { result: { version: row.version, resource } }
      }
      const stored = await findConsentVersion(db, id, version)
      const resource = stored ? await versionToResource(deps, row.patient_id, stored) : undefined
      if (!resource) throw notFound(`Consent/${id} has no version ${version}`)
      return { result: { version, resource }, audit: { detail: { version } } }
    },
  })
}

/** Every version of a consent, newest first (instance `_history`). */
export async function consentHistory(deps: Deps, ctx: AuditContext, id: string): Promise<{ resource: Consent; recordedAt: Date }[]> {
  return withDecision(deps, ctx, {
    action: 'consent.read',
    readOnly: true,
    gather: (db) => consentFacts(deps, db, ctx, id, false),
    act: async (db, _decision, row) => {
      if (!row) throw notFound()
      const out: { resource: Consent; recordedAt: Date }[] = []
      for (const stored of await listConsentVersions(db, id)) {
        const resource = await versionToResource(deps, row.patient_id, stored)
        if (resource) out.push({ resource, recordedAt: stored.recorded_at as unknown as Date })
      }
      if (out.length === 0) throw notFound()
      return { result: out, audit: { detail: { history: out.length } } }
    },
  })
}

async function versionToResource(deps: Deps, patientId: string, stored: { consent_id: string; version: number; resource: string | null }): Promise<Consent | undefined> {
  const key = await dataKeyForReading(deps.db, deps.masterKey, patientId)
  if (!key || stored.resource === null) return undefined
  return JSON.parse(await decryptContent(stored.resource, key, `consent:${stored.consent_id}:${stored.version}`)) as Consent
}

export async function searchConsents(deps: Deps, ctx: AuditContext, patientId: string): Promise<Consent[]> {
  const resources = await withDecision(deps, ctx, {
    action: 'consent.read',
    readOnly: true,
    gather: async (db) => {
      const patient = await findPatient(db, patientId)
      const relationship = patient ? await relationshipFact(db, patient.id, ctx.principal.org, deps.clock.now()) : NO_RELATIONSHIP
      return { facts: { patientExists: patient !== undefined, relationship }, subject: { patientId: patient?.id, resourceType: 'Consent' }, data: patient }
    },
    act: async (db) => {
      const found: Consent[] = []
      for (const row of await listConsentsOfPatient(db, patientId)) {
        const resource = await rowToResource(deps, row)
        if (resource) found.push(resource)
      }
      return { result: found, audit: { detail: { found: found.length } } }
    },
  })
  return resources
}
