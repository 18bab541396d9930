import type { AuditEvent } from '@medplum/fhirtypes'
import type { AuditEventRow } from '../db/schema.js'
import { SYSTEM } from '../fhir/systems.js'
import { rowToAccessLogEntry } from './access-log.js'

export const AUDIT_EVENT_TYPE_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/audit-event-type'
export const AUDIT_REASON_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/access-decision-reason'
export const LEGAL_BASIS_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/legal-basis'
export const PURPOSE_OF_USE_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/purpose-of-use'
export const USER_ID_SYSTEM = 'https://overdracht.nl/fhir/NamingSystem/user'

/** A stored entry as an R4 AuditEvent, with the NEN 7513 fields where the resource has a place for them. */
export function rowToAuditEvent(row: AuditEventRow): AuditEvent {
  const purposes = [
    {
      coding: [
        { system: row.purpose === 'handover' || row.purpose === 'action-perspective' ? SYSTEM.consentPurpose : PURPOSE_OF_USE_SYSTEM, code: row.purpose },
      ],
    },
    ...(row.legal_basis ? [{ coding: [{ system: LEGAL_BASIS_SYSTEM, code: row.legal_basis }] }] : []),
    ...(row.break_glass ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG', display: 'break the glass' }] }] : []),
  ]
  return {
    resourceType: 'AuditEvent',
    id: String(row.id),
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
    subtype: [{ system: AUDIT_EVENT_TYPE_SYSTEM, code: row.event_type }],
    action: row.action,
    recorded: row.occurred_at.toISOString(),
    outcome: row.outcome === 'permit' ? '0' : '4',
    outcomeDesc: row.reason,
    purposeOfEvent: purposes,
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser' }] },
        role: [{ coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/role', code: row.role }] }],
        who: { identifier: { system: USER_ID_SYSTEM, value: row.user_id }, ...(row.user_name ? { display: row.user_name } : {}) },
        ...(row.big_number ? { altId: row.big_number } : {}),
        requestor: true,
        ...(row.consent_id ? { policy: [`Consent/${row.consent_id}`] } : {}),
        network: { address: row.access_point, type: '2' },
        purposeOfUse: purposes.slice(0, 1),
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'dataprocessor' }] },
        role: [{ coding: [{ system: SYSTEM.organizationType, code: row.org_type }] }],
        who: { identifier: { system: SYSTEM.ura, value: row.org_id } },
        requestor: false,
      },
      ...(row.responsible_user_id !== row.user_id
        ? [{ who: { identifier: { system: USER_ID_SYSTEM, value: row.responsible_user_id } }, requestor: false }]
        : []),
    ],
    source: {
      site: row.source_system,
      observer: { display: row.source_system },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4' }],
    },
    entity: [
      ...(row.patient_id
        ? [
            {
              what: { reference: `Patient/${row.patient_id}` },
              type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1' },
              role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1' },
            },
          ]
        : []),
      ...(row.resource_type && row.resource_id
        ? [
            {
              what: { reference: `${row.resource_type}/${row.resource_id}` },
              type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2' },
              name: row.data_segment,
              ...consentEntityDetail(row),
            },
          ]
        : [{ type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2' }, name: row.data_segment }]),
    ],
  }
}

/** For a recorded consent: the form, its language, the patient's language and the interpreter, as entity details. */
function consentEntityDetail(row: AuditEventRow): { detail?: { type: string; valueString: string }[] } {
  if (row.event_type !== 'consent.record') return {}
  const c = rowToAccessLogEntry(row).consent
  if (!c) return {}
  const detail = [
    ...(c.form ? [{ type: 'form', valueString: `${c.form.type}${c.form.version ? `|${c.form.version}` : ''}` }] : []),
    ...(c.form?.language ? [{ type: 'formLanguage', valueString: c.form.language }] : []),
    ...(c.patientLanguage ? [{ type: 'patientLanguage', valueString: c.patientLanguage }] : []),
    ...(c.interpreter ? [{ type: 'interpreter', valueString: c.interpreter.mode }] : []),
    ...(c.interpreter?.language ? [{ type: 'interpreterLanguage', valueString: c.interpreter.language }] : []),
  ]
  return detail.length > 0 ? { detail } : {}
}
