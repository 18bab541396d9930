/** Identifier and code systems the service speaks. Only these URIs are emitted. */
export const SYSTEM = {
  vNummer: 'https://overdracht.nl/fhir/NamingSystem/v-nummer',
  bsn: 'http://fhir.nl/fhir/NamingSystem/bsn',
  big: 'http://fhir.nl/fhir/NamingSystem/big',
  ura: 'http://fhir.nl/fhir/NamingSystem/ura',
  organizationType: 'https://overdracht.nl/fhir/CodeSystem/organization-type',
  consentPurpose: 'https://overdracht.nl/fhir/CodeSystem/consent-purpose',
  handelingsperspectief: 'https://overdracht.nl/fhir/CodeSystem/handelingsperspectief',
  taskCode: 'https://overdracht.nl/fhir/CodeSystem/task-code',
  patientPseudonym: 'https://overdracht.nl/fhir/NamingSystem/patient',
} as const

/** Identifier systems by which a patient may be matched. */
export const PATIENT_MATCH_SYSTEMS: readonly string[] = [SYSTEM.vNummer, SYSTEM.bsn]

/** The patient's dossier version a Bundle is (each upload is a Bundle of its own, at meta.versionId "1"). */
export const DOSSIER_VERSION_EXTENSION = 'https://overdracht.nl/fhir/StructureDefinition/dossier-version'

export const FHIR_JSON = 'application/fhir+json'
