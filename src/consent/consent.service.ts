import { randomUUID } from 'node:crypto'
import type { Bundle, Consent, Identifier, Parameters, Period as FhirPeriod } from '@medplum/fhirtypes'
import { auditDecision, type AuditContext } from '../audit/audit.service.js'
import type { Deps } from '../deps.js'
import { badRequest, conflict, notFound, OutcomeError, issue, unprocessable } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'
import { dataKeyForReading, dataKeyForWriting } from '../patient/data-keys.js'
import { decryptContent, encryptContent } from '../patient/envelope.js'
import { findOrCreatePatient, findPatient, findPatientIdsByIdentifiers, lockPatient } from '../patient/patient.repository.js'
import { caregiverFact, decideOrDeny } from '../access/enforce.js'
import { organisationInvolved } from '../access/relationships.js'
import { issueConsentToken, tokenSettings } from './consent-token.js'
import { parseConsent, referenceToActor } from './consent-resource.js'
import {
  findConsent,
  insertConsent,
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
  token?: { token: string; expiresAt: Date }
}

export const MAX_TOKEN_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000
/** How far a client's clock may run ahead of ours. */
const CLOCK_SKEW_MS = 5 * 60 * 1000

/** Records a consent or a refusal. The patient is created on first mention, matched by V-nummer. */
export async function recordConsent(deps: Deps, ctx: AuditContext, consent: Consent): Promise<RecordedConsent> {
  const { db, clock } = deps
  const parsed = parseConsent(consent)
  if ('issues' in parsed) throw unprocessable(parsed.issues)
  if (parsed.recordedAt.getTime() > clock.now().getTime() + CLOCK_SKEW_MS) {
    throw unprocessable([issue('business-rule', 'Consent.dateTime lies in the future', ['Consent.dateTime'])])
  }
  const big = await caregiverFact(deps, ctx, 'consent.record')
  const existing = await findPatientIdsByIdentifiers(db, [parsed.patient])
  const decision = await decideOrDeny(db, deps,
    ctx,
    { principal: ctx.principal, action: 'consent.record' },
    { ...(big ? { big } : {}) },
    { patientId: existing[0], resourceType: 'Consent' },
  )
  const id = randomUUID()
  const result = await db.transaction().execute(async (trx) => {
    const now = clock.now()
    const patientId = await findOrCreatePatient(trx, parsed.patient, now)
    const patient = await lockPatient(trx, patientId)
    if (!patient || patient.erased_at !== null) throw notFound('This patient has been erased')
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
    await auditDecision(trx, deps, ctx, {
      action: 'consent.record',
      decision,
      patientId,
      resourceType: 'Consent',
      resourceId: id,
      detail: { status: parsed.status },
    })
    return { patientId, resource }
  })

  const recorded: RecordedConsent = { id, version: 1, resource: result.resource }
  if (parsed.status === 'active' && parsed.provisions.some((p) => p.type === 'permit' && p.purposes.includes('handover'))) {
    const fact = rowToConsentFact((await findConsent(db, id))!)
    recorded.token = await mintToken(deps, ctx, result.patientId, fact, undefined, undefined)
  }
  return recorded
}

/** Gathers the facts about one consent record and decides `action` on it; a deny is audited and thrown. */
async function decideOnConsent(deps: Deps, ctx: AuditContext, action: 'consent.read' | 'consent.withdraw' | 'consent.token', id: string) {
  const big = await caregiverFact(deps, ctx, action)
  const row = await findConsent(deps.db, id)
  const involved = row ? await organisationInvolved(deps.db, row.patient_id, ctx.principal.org) : false
  const decision = await decideOrDeny(
    deps.db,
    deps,
    ctx,
    { principal: ctx.principal, action },
    { ...(big ? { big } : {}), patientExists: row !== undefined, organisationInvolved: involved },
    { patientId: row?.patient_id, resourceType: 'Consent', resourceId: id },
  )
  return { row, decision }
}

/** P6: withdrawal. Every token issued under the consent fails on its next use. */
export async function withdrawConsent(deps: Deps, ctx: AuditContext, id: string, body: Consent, ifMatch: string | undefined) {
  const { db, clock } = deps
  if (body.id !== undefined && body.id !== id) throw badRequest('Consent.id must match the id in the URL', ['Consent.id'])
  if (body.status !== 'inactive') {
    throw unprocessable([
      issue('business-rule', 'Only withdrawal (status "inactive") is accepted; record a new Consent for other changes', ['Consent.status']),
    ])
  }
  const { row: current, decision } = await decideOnConsent(deps, ctx, 'consent.withdraw', id)
  if (!current) throw notFound()
  return db.transaction().execute(async (trx) => {
    const now = clock.now()
    // The patient's lock orders this withdrawal against uploads deciding on the same consents.
    await lockPatient(trx, current.patient_id)
    const row = (await lockConsent(trx, id))!
    if (ifMatch !== undefined && ifMatch !== `W/"${row.version}"`) {
      throw new OutcomeError(412, [issue('conflict', 'The consent has changed since you read it (If-Match does not match)')])
    }
    if (row.status === 'rejected') throw conflict('A refusal cannot be withdrawn; record a new consent instead')
    const key = await dataKeyForReading(trx, deps.masterKey, row.patient_id)
    if (!key || row.resource === null) throw notFound()
    const stored = JSON.parse(await decryptContent(row.resource, key, `consent:${id}:${row.version}`)) as Consent
    if (row.status === 'inactive') return { version: row.version, resource: stored }
    const version = row.version + 1
    const resource: Consent = { ...stored, status: 'inactive', meta: { ...stored.meta, versionId: String(version), lastUpdated: now.toISOString() } }
    await markConsentWithdrawn(trx, id, now, version, await encryptContent(JSON.stringify(resource), key, `consent:${id}:${version}`))
    await auditDecision(trx, deps, ctx, {
      action: 'consent.withdraw',
      decision,
      patientId: row.patient_id,
      resourceType: 'Consent',
      resourceId: id,
    })
    return { version, resource }
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

  const { row, decision } = await decideOnConsent(deps, ctx, 'consent.token', id)
  if (!row) throw notFound()
  const now = clock.now()
  const all = (await listConsentsOfPatient(db, row.patient_id)).map(rowToConsentFact)
  const fact = all.find((c) => c.id === id)!
  if (!effectiveConsents(all, now).some((c) => c.id === id)) {
    throw new OutcomeError(409, [issue('business-rule', 'This consent is not in force (withdrawn, refused, superseded or outside its period)')])
  }
  const notBefore = period?.start ? new Date(period.start) : undefined
  const end = period?.end ? new Date(period.end) : undefined
  if ((notBefore && Number.isNaN(notBefore.getTime())) || (end && Number.isNaN(end.getTime()))) {
    throw badRequest('period must have valid start and end instants', ["Parameters.parameter.where(name='period')"])
  }
  if (end && end.getTime() <= now.getTime()) throw badRequest('period.end lies in the past', ["Parameters.parameter.where(name='period')"])
  const minted = await mintToken(deps, ctx, row.patient_id, fact, recipient, { notBefore, end })
  await auditDecision(db, deps, ctx, {
    action: 'consent.token',
    decision,
    patientId: row.patient_id,
    resourceType: 'Consent',
    resourceId: id,
    detail: { recipient: recipient ?? null, expiresAt: minted.expiresAt.toISOString() },
  })
  return minted
}

async function mintToken(
  deps: Deps,
  _ctx: AuditContext,
  patientId: string,
  consent: ConsentFact,
  recipient: Actor | undefined,
  window: { notBefore: Date | undefined; end: Date | undefined } | undefined,
) {
  const now = deps.clock.now()
  const limits = [now.getTime() + (window?.end ? MAX_TOKEN_LIFETIME_MS : deps.settings.consentTokenTtlMs)]
  if (window?.end) limits.push(window.end.getTime())
  if (consent.period?.end) limits.push(consent.period.end.getTime())
  const expiresAt = new Date(Math.min(...limits))
  const { token } = await issueConsentToken(deps.consentKeys, tokenSettings(deps), deps.clock, {
    patientId,
    consentId: consent.id,
    purpose: 'handover',
    ...(recipient ? { recipient } : {}),
    ...(window?.notBefore ? { notBefore: window.notBefore } : {}),
    expiresAt,
  })
  return { token, expiresAt }
}

async function rowToResource(deps: Deps, row: ConsentRow): Promise<Consent | undefined> {
  const key = await dataKeyForReading(deps.db, deps.masterKey, row.patient_id)
  if (!key || row.resource === null) return undefined
  return JSON.parse(await decryptContent(row.resource, key, `consent:${row.id}:${row.version}`)) as Consent
}

export async function readConsent(deps: Deps, ctx: AuditContext, id: string): Promise<{ version: number; resource: Consent }> {
  const { db, clock } = deps
  const { row, decision } = await decideOnConsent(deps, ctx, 'consent.read', id)
  const resource = row ? await rowToResource(deps, row) : undefined
  if (!row || !resource) throw notFound()
  await auditDecision(db, deps, ctx, { action: 'consent.read', decision, patientId: row.patient_id, resourceType: 'Consent', resourceId: id })
  return { version: row.version, resource }
}

export async function searchConsents(deps: Deps, ctx: AuditContext, patientId: string): Promise<Bundle> {
  const { db, clock } = deps
  const big = await caregiverFact(deps, ctx, 'consent.read')
  const involved = await organisationInvolved(db, patientId, ctx.principal.org)
  const decision = await decideOrDeny(db, deps, ctx, { principal: ctx.principal, action: 'consent.read' }, { ...(big ? { big } : {}), organisationInvolved: involved }, {
    patientId,
    resourceType: 'Consent',
  })
  const patient = await findPatient(db, patientId)
  const rows = patient ? await listConsentsOfPatient(db, patientId) : []
  const resources: Consent[] = []
  for (const row of rows) {
    const resource = await rowToResource(deps, row)
    if (resource) resources.push(resource)
  }
  await auditDecision(db, deps, ctx, { action: 'consent.read', decision, patientId, resourceType: 'Consent', detail: { found: resources.length } })
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({ fullUrl: `Consent/${resource.id}`, resource, search: { mode: 'match' } })),
  }
}
