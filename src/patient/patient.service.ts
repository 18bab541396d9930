import type { Bundle, Patient } from '@medplum/fhirtypes'
import type { AuditContext } from '../audit/audit.service.js'
import { withDecision } from '../access/enforce.js'
import { NO_RELATIONSHIP } from '../access/policy.js'
import { relationshipFact } from '../access/relationships.js'
import type { Deps } from '../deps.js'
import { searchset } from '../fhir/searchset.js'
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

/** `GET /fhir/Patient?identifier=system|value`: resolves the service's patient id. Caregivers only. */
export async function searchPatients(deps: Deps, ctx: AuditContext, identifier: string | undefined): Promise<Bundle> {
  if (!identifier) throw badRequest('Search by identifier=system|value is required', ['identifier'])
  const { system, value } = parsePatientIdentifierParam(identifier)
  const entries = await withDecision(deps, ctx, {
    action: 'patient.search',
    readOnly: true,
    gather: async (db) => {
      const [patientId] = await findPatientIdsByIdentifiers(db, [{ system, value }])
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
  return searchset(entries)
}
