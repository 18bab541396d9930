import { readFileSync, readdirSync } from 'node:fs'
import type { Bundle, BundleEntry, Consent, ConsentProvision, Patient, Resource } from '@medplum/fhirtypes'
import { SYSTEM } from '../../src/fhir/systems.js'

const fixtures = new URL('../fixtures/', import.meta.url)

export function readFixture<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, fixtures), 'utf8')) as T
}

export const syntheaFiles = () => readdirSync(new URL('fhir/synthea/', fixtures)).filter((f) => f.endsWith('.json')).sort()

let counter = 0
/** A fresh, unique V-nummer for a test patient. */
export const newVNummer = () => `V${Date.now().toString().slice(-6)}${String(++counter).padStart(4, '0')}`

/**
 * Reshapes a Synthea `transaction` bundle into the `collection` a handover upload expects: the
 * `request` of each entry goes, the Patient gets a V-nummer. Everything else stays.
 */
export function syntheaAsCollection(file: string, vNummer: string): Bundle {
  const bundle = readFixture<Bundle>(`fhir/synthea/${file}`)
  return {
    ...bundle,
    type: 'collection',
    entry: (bundle.entry ?? []).map(({ request: _request, ...entry }) => {
      if (entry.resource?.resourceType !== 'Patient') return entry
      return { ...entry, resource: withVNummer(entry.resource, vNummer) }
    }),
  }
}

export function withVNummer(patient: Patient, vNummer: string): Patient {
  return { ...patient, identifier: [...(patient.identifier ?? []), { system: SYSTEM.vNummer, value: vNummer }] }
}

/** The spec's discharge-summary document with a V-nummer on its Patient. */
export function fatherDocument(vNummer: string): Bundle {
  const bundle = readFixture<Bundle>('fhir/r4/Bundle-father.json')
  return {
    ...bundle,
    entry: (bundle.entry ?? []).map((entry) =>
      entry.resource?.resourceType === 'Patient' ? { ...entry, resource: withVNummer(entry.resource, vNummer) } : entry,
    ),
  }
}

/** A small handover collection: the patient plus the given resources. */
export function handoverBundle(vNummer: string, resources: Resource[] = [], extra: Partial<Patient> = {}): Bundle {
  const entries: BundleEntry[] = [
    {
      fullUrl: 'urn:uuid:8f1b3c1e-6f0a-4c7e-9d51-1f5f6c0e0001',
      resource: {
        resourceType: 'Patient',
        identifier: [{ system: SYSTEM.vNummer, value: vNummer }],
        name: [{ family: 'Testpersoon', given: ['Fictief'] }],
        ...extra,
      },
    },
    ...resources.map((resource, i) => ({ fullUrl: `urn:uuid:8f1b3c1e-6f0a-4c7e-9d51-1f5f6c0e${String(i + 2).padStart(4, '0')}`, resource })),
  ]
  return { resourceType: 'Bundle', type: 'collection', entry: entries }
}

export interface ProvisionSpec {
  type?: 'permit' | 'deny'
  purpose?: string[]
  org?: string[]
  orgType?: string[]
  big?: string[]
  period?: { start?: string; end?: string }
}

export interface ConsentSpec {
  vNummer: string
  status?: 'active' | 'rejected' | 'inactive'
  dateTime?: string
  period?: { start?: string; end?: string }
  provisions?: ProvisionSpec[]
  withoutForm?: boolean
  /** The recording organisation's URA (default: the test GZA). */
  organization?: string
}

const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }

function provision(spec: ProvisionSpec): ConsentProvision {
  const actors = [
    ...(spec.org ?? []).map((value) => ({ role: IRCP, reference: { identifier: { system: SYSTEM.ura, value } } })),
    ...(spec.orgType ?? []).map((value) => ({ role: IRCP, reference: { identifier: { system: SYSTEM.organizationType, value } } })),
    ...(spec.big ?? []).map((value) => ({ role: IRCP, reference: { identifier: { system: SYSTEM.big, value } } })),
  ]
  return {
    type: spec.type ?? 'permit',
    ...(spec.period ? { period: spec.period } : {}),
    ...(actors.length ? { actor: actors } : {}),
    ...(spec.purpose?.length ? { purpose: spec.purpose.map((code) => ({ system: SYSTEM.consentPurpose, code })) } : {}),
  }
}

/** The default consent: handover to medical escorts and DJI, action-perspective to DT&V and escorts. */
export const DEFAULT_PROVISIONS: ProvisionSpec[] = [
  { purpose: ['handover'], orgType: ['medical-escort', 'dji-medical', 'gza'] },
  { purpose: ['action-perspective'], orgType: ['dtv', 'dvo', 'kmar', 'coa'] },
]

export function consentResource(spec: ConsentSpec): Consent {
  const status = spec.status ?? 'active'
  return {
    resourceType: 'Consent',
    status,
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [
      { coding: [{ system: 'http://loinc.org', code: '59284-0' }] },
      { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/consent-form', code: 'overdracht-toestemming', version: '2026-01' }] },
    ],
    patient: { identifier: { system: SYSTEM.vNummer, value: spec.vNummer } },
    dateTime: spec.dateTime ?? '2026-11-24T08:00:00Z',
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    organization: [{ identifier: { system: SYSTEM.ura, value: spec.organization ?? '90000001' } }],
    ...(status === 'active' && !spec.withoutForm
      ? { sourceAttachment: { contentType: 'application/pdf', data: Buffer.from('%PDF-1.4 signed form (test)').toString('base64'), title: 'Signed consent form' } }
      : {}),
    ...(status === 'active' || spec.provisions
      ? {
          provision: {
            type: 'permit',
            ...(spec.period ? { period: spec.period } : {}),
            provision: (spec.provisions ?? DEFAULT_PROVISIONS).map(provision),
          },
        }
      : {}),
  }
}

export interface TaskSpec {
  vNummer: string
  code?: 'transfer' | 'departure' | 'case'
  status?: string
  requester: string
  owner: string
  recipients?: string[]
  start?: string
  output?: { method: string; bigs?: string[] }
}

export function taskResource(spec: TaskSpec): Record<string, unknown> {
  return {
    resourceType: 'Task',
    status: spec.status ?? 'requested',
    intent: 'order',
    code: { coding: [{ system: SYSTEM.taskCode, code: spec.code ?? 'departure' }] },
    for: { identifier: { system: SYSTEM.vNummer, value: spec.vNummer } },
    requester: { identifier: { system: SYSTEM.ura, value: spec.requester } },
    owner: { identifier: { system: SYSTEM.ura, value: spec.owner } },
    ...(spec.recipients ? { restriction: { recipient: spec.recipients.map((value) => ({ identifier: { system: SYSTEM.ura, value } })) } } : {}),
    ...(spec.start ? { executionPeriod: { start: spec.start } } : {}),
    ...(spec.output
      ? {
          output: [
            { type: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-output', code: 'handover-method' }] }, valueCode: spec.output.method },
            ...(spec.output.bigs ?? []).map((value) => ({
              type: { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/task-output', code: 'phone-handover-caregiver' }] },
              valueIdentifier: { system: SYSTEM.big, value },
            })),
          ],
        }
      : {}),
  }
}
