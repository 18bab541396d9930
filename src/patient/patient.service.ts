import type { Patient } from '@medplum/fhirtypes'
import type { AuditContext } from '../audit/audit.service.js'
import { withDecision } from '../access/enforce.js'
import { NO_RELATIONSHIP } from '../access/policy.js'
import { relationshipFact } from '../access/relationships.js'
import type { Deps } from '../deps.js'
import { badRequest } from '../fhir/outcome.js'
import { PATIENT_MATCH_SYSTEMS } from '../fhir/systems.js'
import { findPatient, findPatientIdsByIdentifiers, listPatientIdentifiers, type PatientIdentifier } from './patient.repository.js'

/** Reads an `identifier=system|value` search parameter naming a patient by V-nummer or BSN; 400 otherwise. */
export function parsePatientIdentifierParam(identifier: string | undefined): PatientIdentifier {
  const bar = identifier?.indexOf('|') ?? -1
  const system = identifier && bar > 0 ? identifier.slice(0, bar) : ''
  const value = identifier && bar > 0 ? identifier.slice(bar + 1).trim() : ''
  if (!PATIENT_MATCH_SYSTEMS.includes(system) || value === '') {
    throw badRequest(`identifier must be system|value with system ${PATIENT_MATCH_SYSTEMS.join(' or ')}`, ['identifier'])
  }
  return { system, value }
}

/** At most this many alternatives in one `identifier=a,b` search: each is a decision of its own. */
export const MAX_IDENTIFIER_ALTERNATIVES = 10

/**
 * `GET /fhir/Patient?identifier=system|value[,system|value…]`: resolves the service's patient id
 * for each alternative (comma-separated alternatives match any). Caregivers only; each
 * alternative is decided and audited on its own.
 */
export async function searchPatients(deps: Deps, ctx: AuditContext, identifiers: readonly string[]): Promise<Patient[]> {
  if (identifiers.length === 0) throw badRequest('Search by identifier=system|value is required', ['identifier'])
  if (identifiers.length > MAX_IDENTIFIER_ALTERNATIVES) throw badRequest(`identifier takes at most ${MAX_IDENTIFIER_ALTERNATIVES} alternatives`, ['identifier'])
  const parsed = identifiers.map(parsePatientIdentifierParam)
  const found = new Map<string, Patient>()
  for (const { system, value } of parsed) {
    for (const patient of await searchOnePatient(deps, ctx, system, value)) found.set(patient.id!, patient)
  }
  return [...found.values()]
}

async function searchOnePatient(deps: Deps, ctx: AuditContext, system: string, value: string): Promise<Patient[]> {
  return matchPatient(deps, ctx, async (db) => {
    const [patientId] = await findPatientIdsByIdentifiers(db, [{ system, value }])
    return patientId
  })
}

/**
 * `GET /fhir/Patient/{id}`: the same Patient a search answers (id, V-nummer, BSN), to the same
 * callers, so the fullUrl of a search entry resolves. An unrelated caregiver gets 404, as for an
 * unknown id.
 */
export async function readPatient(deps: Deps, ctx: AuditContext, id: string): Promise<Patient> {
  return withDecision(deps, ctx, {
    action: 'patient.read',
    readOnly: true,
    gather: async (db) => {
      const patient = await findPatient(db, id)
      const relationship = patient ? await relationshipFact(db, patient.id, ctx.principal.org, deps.clock.now()) : NO_RELATIONSHIP
      return { facts: { patientExists: patient !== undefined, relationship }, subject: { patientId: patient?.id, resourceType: 'Patient', resourceId: id }, data: patient }
    },
    act: async (db, _decision, patient) => {
      const identifiers = await listPatientIdentifiers(db, patient!.id)
      return { result: { resourceType: 'Patient', id: patient!.id, identifier: identifiers.map((i) => ({ system: i.system, value: i.value })) } }
    },
  })
}

async function matchPatient(deps: Deps, ctx: AuditContext, find: (db: Deps['db']) => Promise<string | undefined>): Promise<Patient[]> {
  return withDecision(deps, ctx, {
    action: 'patient.search',
    readOnly: true,
    gather: async (db) => {
      const patientId = await find(db)
      const patient = patientId ? await findPatient(db, patientId) : undefined
      const relationship = patient ? await relationshipFact(db, patient.id, ctx.principal.org, deps.clock.now()) : NO_RELATIONSHIP
      return { facts: { patientExists: patient !== undefined, relationship }, subject: { patientId: patient?.id, resourceType: 'Patient' }, data: patient }
    },
    act: async (db, decision, patient) => {
      const found: Patient[] = []
      if (patient && !decision.obligations.includes('withhold-match')) {
        const identifiers = await listPatientIdentifiers(db, patient.id)
        found.push({ resourceType: 'Patient', id: patient.id, identifier: identifiers.map((i) => ({ system: i.system, value: i.value })) })
      }
      return { result: found, audit: { detail: { found: found.length } } }
    },
  })
}
