import type {
  AllergyIntolerance,
  Bundle,
  CodeableConcept,
  Condition,
  DocumentReference,
  Flag,
  MedicationStatement,
  Observation,
  Patient,
  Resource,
} from '@medplum/fhirtypes'
import { SYSTEM } from '../fhir/systems.js'

/**
 * The escort nurse's readable dossier, from a released FHIR bundle: for caregivers only (the page
 * that shows it is reached only through `readDossier`, which decided). Plain strings; the page
 * escapes them.
 */
export interface DossierView {
  patient: { name?: string; birthDate?: string; gender?: string; vNummer?: string; bsn?: string } | undefined
  allergies: { what: string; criticality?: string; reaction?: string }[]
  medication: { what: string; dosage?: string }[]
  conditions: { what: string; since?: string }[]
  alerts: { what: string }[]
  observations: { what: string; value?: string; at?: string }[]
  documents: { title: string; date?: string }[]
}

const MAX_OBSERVATIONS = 10

export function conceptText(c: CodeableConcept | undefined): string | undefined {
  if (!c) return undefined
  return c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.find((x) => x.code)?.code
}

const isActive = (status: CodeableConcept | undefined) => {
  const code = status?.coding?.[0]?.code
  return code === undefined || code === 'active' || code === 'recurrence' || code === 'relapse'
}

function observationValue(o: Observation): string | undefined {
  if (o.valueQuantity?.value !== undefined) return `${o.valueQuantity.value} ${o.valueQuantity.unit ?? o.valueQuantity.code ?? ''}`.trim()
  if (o.valueCodeableConcept) return conceptText(o.valueCodeableConcept)
  if (typeof o.valueString === 'string') return o.valueString
  if (typeof o.valueBoolean === 'boolean') return String(o.valueBoolean)
  if (o.component?.length) {
    const parts = o.component
      .map((c) => (c.valueQuantity?.value !== undefined ? `${c.valueQuantity.value}` : undefined))
      .filter((v): v is string => v !== undefined)
    const unit = o.component[0]?.valueQuantity?.unit ?? ''
    return parts.length ? `${parts.join('/')} ${unit}`.trim() : undefined
  }
  return undefined
}

export function dossierView(bundle: Bundle): DossierView {
  const resources: Resource[] = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined)
  const of = <T extends Resource>(type: T['resourceType']) => resources.filter((r): r is T => r.resourceType === type)
  const patient = of<Patient>('Patient')[0]
  const name = patient?.name?.[0]
  const nameText = name ? name.text ?? [...(name.given ?? []), ...(name.family ? [name.family] : [])].join(' ') : undefined
  const identifier = (system: string) => patient?.identifier?.find((i) => i.system === system)?.value

  const observations = of<Observation>('Observation')
    .filter((o) => o.status !== 'entered-in-error' && o.status !== 'cancelled')
    .map((o) => ({ o, at: o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued }))
    .sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''))
  const latestPerCode = new Map<string, { what: string; value?: string; at?: string }>()
  for (const { o, at } of observations) {
    const what = conceptText(o.code)
    if (!what || latestPerCode.has(what)) continue
    const value = observationValue(o)
    latestPerCode.set(what, { what, ...(value ? { value } : {}), ...(at ? { at } : {}) })
    if (latestPerCode.size >= MAX_OBSERVATIONS) break
  }

  return {
    patient: patient
      ? {
          ...(nameText ? { name: nameText } : {}),
          ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
          ...(patient.gender ? { gender: patient.gender } : {}),
          ...(identifier(SYSTEM.vNummer) ? { vNummer: identifier(SYSTEM.vNummer)! } : {}),
          ...(identifier(SYSTEM.bsn) ? { bsn: identifier(SYSTEM.bsn)! } : {}),
        }
      : undefined,
    allergies: of<AllergyIntolerance>('AllergyIntolerance')
      .filter((a) => isActive(a.clinicalStatus) && a.verificationStatus?.coding?.[0]?.code !== 'entered-in-error')
      .map((a) => {
        const reaction = a.reaction?.flatMap((r) => (r.manifestation ?? []).map(conceptText)).filter(Boolean).join(', ')
        return { what: conceptText(a.code) ?? '?', ...(a.criticality ? { criticality: a.criticality } : {}), ...(reaction ? { reaction } : {}) }
      }),
    medication: of<MedicationStatement>('MedicationStatement')
      .filter((m) => m.status === 'active' || m.status === 'intended' || m.status === 'on-hold')
      .map((m) => {
        const dosage = (m.dosage ?? []).map((d) => d.text).filter(Boolean).join('; ')
        return { what: conceptText(m.medicationCodeableConcept) ?? m.medicationReference?.display ?? '?', ...(dosage ? { dosage } : {}) }
      }),
    conditions: of<Condition>('Condition')
      .filter((c) => isActive(c.clinicalStatus))
      .map((c) => ({ what: conceptText(c.code) ?? '?', ...(c.onsetDateTime ? { since: c.onsetDateTime } : {}) })),
    alerts: of<Flag>('Flag')
      .filter((f) => f.status === 'active')
      .map((f) => ({ what: conceptText(f.code) ?? '?' })),
    observations: [...latestPerCode.values()],
    documents: of<DocumentReference>('DocumentReference').map((d) => ({
      title: d.description ?? d.content?.[0]?.attachment?.title ?? conceptText(d.type) ?? '?',
      ...(d.date ? { date: d.date } : {}),
    })),
  }
}
