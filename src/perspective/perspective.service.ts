import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes'
import type { AuditContext } from '../audit/audit.service.js'
import { withDecision } from '../access/enforce.js'
import { perspectiveReadFacts } from '../access/patient-facts.js'
import type { LegalBasis } from '../access/policy.js'
import type { PerspectiveRow } from '../db/schema.js'
import type { Deps } from '../deps.js'
import type { Executor } from '../db/executor.js'
import { notFound } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'
import { parsePatientIdentifierParam } from '../patient/patient.service.js'
import type { Principal } from '../http/principal.js'
import { contactLineFor } from './contact-lines.js'
import { derivePerspective, type DerivedFlag, type DerivedPerspective } from './derive.js'
import { insertPerspective } from './perspective.repository.js'
import { audienceForRole, visibleFlags } from './view.js'
import { PERSPECTIVE_VALUE_SYSTEM, VOCABULARY, findValue, isValuedActionCode } from './vocabulary.js'

/**
 * Derives the perspective of a just-stored bundle and keeps it as its own record, inside the
 * upload's transaction: reading the perspective later never needs the dossier.
 */
export async function storePerspective(
  trx: Executor,
  bundle: Bundle,
  ids: { bundleId: string; patientId: string; version: number },
  uploader: Pick<Principal, 'org' | 'orgType' | 'role'>,
  profession: string | undefined,
  now: Date,
): Promise<void> {
  const derived = derivePerspective(bundle, now)
  await insertPerspective(trx, {
    bundle_id: ids.bundleId,
    patient_id: ids.patientId,
    version: ids.version,
    flags: JSON.stringify(derived.flags),
    fit_assessed_at: derived.fitToTravelAssessedAt && !Number.isNaN(Date.parse(derived.fitToTravelAssessedAt)) ? new Date(derived.fitToTravelAssessedAt) : null,
    issuer_org: uploader.org,
    issuer_org_type: uploader.orgType,
    reviewer_role: profession ?? uploader.role,
    reviewed_at: now,
    erased_at: null,
  })
}

export type PatientSelector = { patientId: string } | { identifier: string | undefined }

/** P4 and P8: the handelingsperspectief, built from an allow-list of vocabulary codes and configuration only. */
export async function readPerspective(deps: Deps, ctx: AuditContext, selector: PatientSelector): Promise<Parameters> {
  const { clock } = deps
  const { principal } = ctx
  return withDecision(deps, ctx, {
    action: 'perspective.read',
    purpose: 'action-perspective',
    readOnly: true,
    gather: async (db) => {
      // One statement: the patient, relationships, consents, stored perspective and planned departure.
      const target = 'patientId' in selector ? selector : { identifier: parsePatientIdentifierParam(selector.identifier) }
      const { patientId, relationship, consents, stored, departure } = await perspectiveReadFacts(db, target, { org: principal.org, caregiver: principal.role === 'caregiver' }, clock.now())
      const storedFlags = (stored?.flags as DerivedFlag[] | undefined) ?? []
      const recordedLegalGround: LegalBasis = storedFlags.some((f) => f.legalGround === 'conflict-of-duties') ? 'CONFLICT_OF_DUTIES' : 'LEGAL_OBLIGATION'
      return {
        facts: { patientExists: patientId !== undefined, consents, relationship, recordedLegalGround },
        subject: { patientId, resourceType: 'Patient', resourceId: patientId },
        data: { patientId, stored, storedFlags, departure },
      }
    },
    act: async (_db, decision, { patientId, stored, storedFlags, departure }) => {
      const parameters = perspectiveParameters(deps, principal, decision.obligations.includes('safety-critical-only'), patientId!, stored, storedFlags, departure)
      // The entry names the segment and the dossier version it came from, never the codes shown.
      return { result: parameters, audit: { detail: { ...(stored ? { bundleVersion: stored.version } : {}) } } }
    },
  })
}

function perspectiveParameters(
  deps: Deps,
  principal: Principal,
  safetyOnly: boolean,
  patientId: string,
  stored: PerspectiveRow | undefined,
  storedFlags: DerivedFlag[],
  departure: Date | undefined,
): Parameters {
  const { clock } = deps
  const audience = audienceForRole(principal.role)
  if (!audience) throw notFound()
  const perspective: DerivedPerspective = { flags: storedFlags }
  const flags = stored ? visibleFlags(perspective, audience, !safetyOnly) : []

  const now = clock.now()
  const staleReasons: string[] = []
  if (!stored) staleReasons.push('no-review')
  else {
    if (departure && departure.getTime() - stored.reviewed_at.getTime() > deps.settings.perspectiveReviewBeforeDepartureMs) {
      staleReasons.push('review-before-departure')
    }
    if (now.getTime() - stored.reviewed_at.getTime() > deps.settings.perspectiveMaxAgeMs) staleReasons.push('max-age')
  }
  const contact = stored ? contactLineFor(deps.settings.contactLines, stored.issuer_org, stored.issuer_org_type) : undefined

  const parameter: ParametersParameter[] = [
    { name: 'patient', valueReference: { reference: `Patient/${patientId}` } },
    { name: 'disclosure', valueCode: audience === 'caregiver' ? 'caregiver' : safetyOnly ? 'safety-critical-only' : 'consent' },
    ...flags.map(flagParameter),
    ...(stored
      ? [
          { name: 'issuer', valueReference: { identifier: { system: SYSTEM.ura, value: stored.issuer_org } } },
          { name: 'issuerType', valueCoding: { system: SYSTEM.organizationType, code: stored.issuer_org_type } },
          { name: 'reviewerRole', valueCode: stored.reviewer_role },
          { name: 'reviewedAt', valueInstant: stored.reviewed_at.toISOString() },
        ]
      : []),
    ...(departure ? [{ name: 'plannedDeparture', valueDateTime: departure.toISOString() }] : []),
    { name: 'stale', valueBoolean: staleReasons.length > 0 },
    ...staleReasons.map((reason) => ({ name: 'staleReason', valueCode: reason })),
    ...(contact
      ? [
          {
            name: 'contact',
            part: [
              { name: 'name', valueString: contact.name },
              { name: 'phone', valueContactPoint: { system: 'phone' as const, value: contact.phone, use: 'work' as const } },
              { name: 'hours', valueString: contact.hours },
            ],
          },
        ]
      : []),
  ]
  return { resourceType: 'Parameters', parameter }
}

function flagParameter(flag: DerivedFlag): ParametersParameter {
  const definition = VOCABULARY[flag.code]
  const value = flag.value !== undefined && isValuedActionCode(flag.code) ? findValue(flag.code, flag.value) : undefined
  return {
    name: 'flag',
    part: [
      { name: 'code', valueCoding: { system: SYSTEM.handelingsperspectief, code: definition.code, display: definition.display } },
      ...(value ? [{ name: 'value', valueCoding: { system: PERSPECTIVE_VALUE_SYSTEM, code: value.code, display: value.display } }] : []),
      ...(flag.until ? [{ name: 'until', valueDateTime: flag.until }] : []),
      { name: 'safetyCritical', valueBoolean: definition.safetyCritical },
      ...(flag.legalGround ? [{ name: 'legalGround', valueCode: flag.legalGround }] : []),
    ],
  }
}
