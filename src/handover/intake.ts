import type { Bundle, OperationOutcomeIssue, Patient } from '@medplum/fhirtypes'
import { issue } from '../fhir/outcome.js'
import { PATIENT_MATCH_SYSTEMS, SYSTEM } from '../fhir/systems.js'
import type { PatientIdentifier } from '../patient/patient.repository.js'

export const HANDOVER_BUNDLE_TYPES = ['document', 'collection'] as const

export interface HandoverSubject {
  /** The identifiers the patient is matched by: the V-nummer, and the BSN where present. */
  identifiers: PatientIdentifier[]
}

/**
 * Checks what a handover bundle must hold beyond being valid FHIR: a `document` or `collection`
 * with exactly one Patient, who carries a V-nummer. Returns the issues, or the patient's
 * identifiers.
 */
export function checkHandoverBundle(bundle: Bundle): { issues: OperationOutcomeIssue[] } | HandoverSubject {
  if (!(HANDOVER_BUNDLE_TYPES as readonly string[]).includes(bundle.type)) {
    return { issues: [issue('invalid', 'A handover bundle must be of type "document" or "collection"', ['Bundle.type'])] }
  }
  const patients: { index: number; patient: Patient }[] = []
  ;(bundle.entry ?? []).forEach((entry, index) => {
    if (entry.resource?.resourceType === 'Patient') patients.push({ index, patient: entry.resource })
  })
  if (patients.length !== 1) {
    return {
      issues: [
        issue(
          'invalid',
          `A handover bundle must hold exactly one Patient resource; it holds ${patients.length}`,
          ['Bundle.entry.resource.ofType(Patient)'],
        ),
      ],
    }
  }
  const { index, patient } = patients[0]!
  const identifiers: PatientIdentifier[] = []
  for (const id of patient.identifier ?? []) {
    if (id.system && PATIENT_MATCH_SYSTEMS.includes(id.system) && typeof id.value === 'string' && id.value.trim() !== '') {
      identifiers.push({ system: id.system, value: id.value.trim() })
    }
  }
  const vNummers = identifiers.filter((i) => i.system === SYSTEM.vNummer)
  const bsns = identifiers.filter((i) => i.system === SYSTEM.bsn)
  const path = [`Bundle.entry[${index}].resource.identifier`]
  if (vNummers.length !== 1) {
    return {
      issues: [issue('required', `The Patient must carry exactly one V-nummer identifier (system ${SYSTEM.vNummer})`, path)],
    }
  }
  if (bsns.length > 1) return { issues: [issue('invalid', 'The Patient carries more than one BSN', path)] }
  for (const bsn of bsns) {
    if (!isValidBsn(bsn.value)) return { issues: [issue('value', 'The Patient BSN is not a valid BSN (9 digits, elfproef)', path)] }
  }
  return { identifiers }
}

/** The BSN check: 9 digits passing the "elfproef" (weights 9..2 and -1, sum divisible by 11). */
export function isValidBsn(value: string): boolean {
  if (!/^\d{9}$/.test(value)) return false
  let sum = 0
  for (let i = 0; i < 8; i++) sum += Number(value[i]) * (9 - i)
  sum -= Number(value[8])
  return sum % 11 === 0 && value !== '000000000'
}
