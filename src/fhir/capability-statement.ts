import type { CapabilityStatement } from '@medplum/fhirtypes'

/** What the FHIR endpoint offers, for `GET /fhir/metadata`. */
export function capabilityStatement(version: string, now: Date): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: now.toISOString(),
    kind: 'instance',
    software: { name: 'Overdracht', version },
    implementation: { description: 'Consent-managed medical handover for the Dutch migration chain' },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          description:
            'Bearer JWT from the organisation identity provider (asymmetric signatures only). ' +
            'Dossier reads need a verified BIG registration and a consent token in X-Consent-Token, ' +
            'or emergency access with X-Emergency-Reason.',
        },
        resource: [
          {
            type: 'Bundle',
            interaction: [{ code: 'create' }, { code: 'read' }, { code: 'vread' }],
            versioning: 'versioned',
            documentation:
              "A release is minimised under the patient's consent (nested denies on securityLabel or class) and then tagged content-withheld-under-consent. " +
              'An upload holding content the consent excludes for every recipient is refused (422) unless create is called with own-copy=true.',
          },
          {
            type: 'Patient',
            interaction: [{ code: 'search-type' }],
            searchParam: [{ name: 'identifier', type: 'token' }],
            operation: [
              { name: 'handover', definition: 'https://overdracht.nl/fhir/OperationDefinition/Patient-handover' },
              {
                name: 'handelingsperspectief',
                definition: 'https://overdracht.nl/fhir/OperationDefinition/Patient-handelingsperspectief',
              },
              { name: 'access-log', definition: 'https://overdracht.nl/fhir/OperationDefinition/Patient-access-log' },
              { name: 'erase', definition: 'https://overdracht.nl/fhir/OperationDefinition/Patient-erase' },
            ],
          },
          {
            type: 'Consent',
            interaction: [{ code: 'create' }, { code: 'update' }, { code: 'read' }, { code: 'search-type' }],
            searchParam: [{ name: 'patient', type: 'reference' }],
            operation: [
              { name: 'token', definition: 'https://overdracht.nl/fhir/OperationDefinition/Consent-token' },
              {
                name: 'form-check',
                definition: 'https://overdracht.nl/fhir/OperationDefinition/Consent-form-check',
                documentation:
                  "The caller's organisation's patients with no consent, refused without a phone handover for a departure or transfer within `days` (default 7), or on an outdated form version.",
              },
            ],
            versioning: 'versioned',
          },
          {
            type: 'Task',
            interaction: [{ code: 'create' }, { code: 'update' }, { code: 'read' }, { code: 'search-type' }],
            searchParam: [
              { name: 'owner', type: 'reference' },
              { name: 'requester', type: 'reference' },
              { name: 'status', type: 'token' },
              { name: 'code', type: 'token' },
            ],
            versioning: 'versioned',
          },
          {
            type: 'AuditEvent',
            interaction: [{ code: 'search-type' }],
            searchParam: [
              { name: 'patient', type: 'reference' },
              { name: 'date', type: 'date' },
            ],
          },
          { type: 'CodeSystem', interaction: [{ code: 'read' }] },
        ],
      },
    ],
  }
}
