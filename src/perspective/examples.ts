/**
 * Valid R4 example resources in the shapes the derivation reads (docs/handelingsperspectief.md),
 * for tests, the README and HTTP tests. Each builder returns a fresh object; examples.test.ts
 * proves every shape validates with validateFhirResource.
 */
import type { Bundle, Flag, MedicationStatement, Observation, Patient, Reference, Resource } from '@medplum/fhirtypes'
import { SYSTEM } from '../fhir/systems.js'
import {
  HANDELINGSPERSPECTIEF_SYSTEM,
  LEGAL_GROUND_EXTENSION,
  LEGAL_GROUND_SYSTEM,
  LEGAL_GROUND_VOCABULARY,
  PERSPECTIVE_VALUE_EXTENSION,
  PERSPECTIVE_VALUE_SYSTEM,
  VALUE_VOCABULARY,
  VOCABULARY,
  type ActionCode,
  type FitToTravel,
  type LegalGround,
  type PerspectiveValue,
  type PostponementStatus,
} from './vocabulary.js'

/** The fullUrl of the Patient in exampleHandoverBundle; the builders' default subject. */
export const EXAMPLE_PATIENT_FULL_URL = 'urn:uuid:0b7c2a9e-1d4f-4c1a-9a57-3e2f5d6c0001'
const DEFAULT_SUBJECT: Reference<Patient> = { reference: EXAMPLE_PATIENT_FULL_URL }

const SNOMED = 'http://snomed.info/sct'
const LOINC = 'http://loinc.org'

export interface ActionFlagOptions {
  subject?: Reference<Patient>
  /** Required for fit-to-travel and medical-postponement (the handelingsperspectief-value extension). */
  value?: PerspectiveValue
  /** Marks a safety-critical code disclosable without consent. */
  legalGround?: LegalGround
  /** For medical-postponement = granted, `end` is the date the postponement runs until. */
  period?: { start?: string; end?: string }
}

/** A Flag carrying one handelingsperspectief code (status active). */
export function exampleActionFlag(code: ActionCode, options: ActionFlagOptions = {}): Flag {
  const extension = [
    ...(options.value !== undefined ? [valueExtension(options.value)] : []),
    ...(options.legalGround !== undefined ? [legalGroundExtension(options.legalGround)] : []),
  ]
  return {
    resourceType: 'Flag',
    ...(extension.length > 0 ? { extension } : {}),
    status: 'active',
    code: { coding: [{ system: HANDELINGSPERSPECTIEF_SYSTEM, code, display: VOCABULARY[code].display }] },
    subject: options.subject ?? DEFAULT_SUBJECT,
    ...(options.period ? { period: options.period } : {}),
  }
}

/** A zib-Alert-shaped Flag (category LOINC 74018-3 "Alert") with a SNOMED CT alert name. */
export function exampleAlertFlag(
  snomedCode: string,
  options: { subject?: Reference<Patient>; legalGround?: LegalGround; period?: { start?: string; end?: string } } = {},
): Flag {
  return {
    resourceType: 'Flag',
    ...(options.legalGround !== undefined ? { extension: [legalGroundExtension(options.legalGround)] } : {}),
    status: 'active',
    category: [{ coding: [{ system: LOINC, code: '74018-3' }] }],
    code: { coding: [{ system: SNOMED, code: snomedCode }] },
    subject: options.subject ?? DEFAULT_SUBJECT,
    ...(options.period ? { period: options.period } : {}),
  }
}

/** The fit-to-travel assessment: status final, effectiveDateTime, value from the value CodeSystem. */
export function exampleFitToTravelObservation(
  value: FitToTravel,
  effective: string,
  options: { subject?: Reference<Patient> } = {},
): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: HANDELINGSPERSPECTIEF_SYSTEM, code: 'fit-to-travel', display: VOCABULARY['fit-to-travel'].display }] },
    subject: options.subject ?? DEFAULT_SUBJECT,
    effectiveDateTime: effective,
    valueCodeableConcept: { coding: [valueCoding(value)] },
  }
}

/**
 * The state of the art. 64 procedure: status final, effectivePeriod.start = when the state was
 * recorded (or decided), effectivePeriod.end = until (granted only).
 */
export function exampleMedicalPostponementObservation(
  value: PostponementStatus,
  recorded: string,
  options: { until?: string; subject?: Reference<Patient> } = {},
): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: {
      coding: [{ system: HANDELINGSPERSPECTIEF_SYSTEM, code: 'medical-postponement', display: VOCABULARY['medical-postponement'].display }],
    },
    subject: options.subject ?? DEFAULT_SUBJECT,
    effectivePeriod: { start: recorded, ...(options.until !== undefined ? { end: options.until } : {}) },
    valueCodeableConcept: { coding: [valueCoding(value)] },
  }
}

/** A medication in use (zib MedicationUse2 shape, reduced): yields medication-accompanies, never its name. */
export function exampleMedicationStatement(
  options: { status?: MedicationStatement['status']; medicationText?: string; subject?: Reference<Patient> } = {},
): MedicationStatement {
  return {
    resourceType: 'MedicationStatement',
    status: options.status ?? 'active',
    medicationCodeableConcept: { text: options.medicationText ?? 'Example medication 10 mg tablet' },
    subject: options.subject ?? DEFAULT_SUBJECT,
  }
}

/** A handover `collection`: a Patient with the V-nummer (fullUrl EXAMPLE_PATIENT_FULL_URL) and the resources. */
export function exampleHandoverBundle(vNummer: string, resources: Resource[] = []): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: EXAMPLE_PATIENT_FULL_URL,
        resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM.vNummer, value: vNummer }] },
      },
      ...resources.map((resource, i) => ({
        fullUrl: `urn:uuid:0b7c2a9e-1d4f-4c1a-9a57-3e2f5d6c${String(i + 2).padStart(4, '0')}`,
        resource,
      })),
    ],
  }
}

function valueCoding(value: PerspectiveValue) {
  const definition = VALUE_VOCABULARY.find((v) => v.code === value)
  return { system: PERSPECTIVE_VALUE_SYSTEM, code: value, ...(definition ? { display: definition.display } : {}) }
}

function valueExtension(value: PerspectiveValue) {
  return { url: PERSPECTIVE_VALUE_EXTENSION, valueCodeableConcept: { coding: [valueCoding(value)] } }
}

function legalGroundExtension(ground: LegalGround) {
  return {
    url: LEGAL_GROUND_EXTENSION,
    valueCodeableConcept: { coding: [{ system: LEGAL_GROUND_SYSTEM, code: ground, display: LEGAL_GROUND_VOCABULARY[ground].display }] },
  }
}
