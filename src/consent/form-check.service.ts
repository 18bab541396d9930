import type { Parameters, ParametersParameter } from '@medplum/fhirtypes'
import type { AuditContext } from '../audit/audit.service.js'
import { withDecision } from '../access/enforce.js'
import { effectiveConsents, type ConsentFact } from '../access/policy.js'
import { rowToConsentFact } from '../access/facts.js'
import type { Deps } from '../deps.js'
import type { Executor } from '../db/executor.js'
import { SYSTEM } from '../fhir/systems.js'

export const FORM_CHECK_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/consent-form-check'
export type FindingKind = 'no-consent' | 'refused-without-phone-handover' | 'outdated-form'

export interface Finding {
  kind: FindingKind
  patientId: string
  vNummer?: string
  taskId?: string
  plannedStart?: Date
  formVersion?: string
  currentVersion?: string
}

const OPEN_STATUSES = ['requested', 'accepted', 'in-progress', 'on-hold']
const DAY_MS = 24 * 3600_000

/**
 * The consent form check for a care organisation's own patients (those it is custodian of now):
 * which have no consent in force and no refusal; which refused, with a departure or transfer in
 * the coming `days` on which no phone handover is recorded; which rest on a consent form version
 * that is no longer current. A caregiver of the organisation asks; the answer covers nobody else's
 * patients.
 */
export async function consentFormCheck(deps: Deps, ctx: AuditContext, days = 7): Promise<Finding[]> {
  return withDecision(deps, ctx, {
    action: 'consent.form-check',
    readOnly: true,
    gather: async () => ({ facts: {}, subject: { resourceType: 'Consent' }, data: undefined }),
    act: async (db) => {
      const findings = await findings_(db, deps, ctx.principal.org, days)
      return { result: findings, audit: { detail: { findings: findings.length } } }
    },
  })
}

async function findings_(db: Executor, deps: Deps, org: string, days: number): Promise<Finding[]> {
  const now = deps.clock.now()
  const patients = (
    await db
      .selectFrom('care_relationship')
      .innerJoin('patient', 'patient.id', 'care_relationship.patient_id')
      .select('care_relationship.patient_id')
      .distinct()
      .where('care_relationship.org', '=', org)
      .where('care_relationship.kind', '=', 'custodian')
      .where((eb) => eb.or([eb('care_relationship.ends_at', 'is', null), eb('care_relationship.ends_at', '>', now)]))
      .where('patient.erased_at', 'is', null)
      .execute()
  ).map((r) => r.patient_id)
  if (patients.length === 0) return []

  const [consentRows, tasks, identifiers] = await Promise.all([
    db.selectFrom('consent').selectAll().where('patient_id', 'in', patients).orderBy('received_at', 'asc').execute(),
    db
      .selectFrom('task')
      .select(['id', 'patient_id', 'planned_start', 'handover_method'])
      .where('patient_id', 'in', patients)
      .where('code', 'in', ['departure', 'transfer'])
      .where('status', 'in', OPEN_STATUSES)
      .where('planned_start', '>=', now)
      .where('planned_start', '<=', new Date(now.getTime() + days * DAY_MS))
      .orderBy('planned_start', 'asc')
      .execute(),
    db.selectFrom('patient_identifier').select(['patient_id', 'value']).where('patient_id', 'in', patients).where('system', '=', SYSTEM.vNummer).execute(),
  ])
  const vNummerOf = new Map(identifiers.map((i) => [i.patient_id, i.value]))
  const consentsOf = new Map<string, typeof consentRows>()
  for (const row of consentRows) consentsOf.set(row.patient_id, [...(consentsOf.get(row.patient_id) ?? []), row])

  const out: Finding[] = []
  for (const patientId of [...patients].sort()) {
    const rows = consentsOf.get(patientId) ?? []
    const facts = rows.map(rowToConsentFact)
    const effective = effectiveConsents(facts, now)
    const base = { patientId, ...(vNummerOf.has(patientId) ? { vNummer: vNummerOf.get(patientId)! } : {}) }
    if (effective.length > 0) {
      for (const consent of effective) {
        const row = rows.find((r) => r.id === consent.id)!
        if (row.form_type && row.form_version && !deps.settings.consentForms.isCurrent(row.form_type, row.form_version)) {
          out.push({ ...base, kind: 'outdated-form', formVersion: row.form_version, ...(deps.settings.consentForms.current(row.form_type) ? { currentVersion: deps.settings.consentForms.current(row.form_type)! } : {}) })
        }
      }
      continue
    }
    if (lastDecisionIsRefusal(facts)) {
      for (const task of tasks.filter((t) => t.patient_id === patientId && t.handover_method !== 'phone-handover')) {
        out.push({ ...base, kind: 'refused-without-phone-handover', taskId: task.id, plannedStart: new Date(task.planned_start as unknown as string) })
      }
      continue
    }
    out.push({ ...base, kind: 'no-consent' })
  }
  return out
}

/** Whether the patient's latest word is a refusal (not a withdrawal, not a consent). */
function lastDecisionIsRefusal(facts: readonly ConsentFact[]): boolean {
  let last: { at: number; refusal: boolean } | undefined
  for (const c of facts) {
    const at = c.status === 'inactive' ? (c.withdrawnAt ?? c.recordedAt).getTime() : c.recordedAt.getTime()
    if (!last || at >= last.at) last = { at, refusal: c.status === 'rejected' }
  }
  return last?.refusal === true
}

/** The findings as a FHIR Parameters resource: one `finding` per case, with its parts. */
export function findingsToParameters(findings: Finding[], days: number): Parameters {
  const parameter: ParametersParameter[] = [{ name: 'days', valueInteger: days }, { name: 'total', valueInteger: findings.length }]
  for (const f of findings) {
    const part: ParametersParameter[] = [
      { name: 'kind', valueCoding: { system: FORM_CHECK_SYSTEM, code: f.kind } },
      { name: 'patient', valueReference: { reference: `Patient/${f.patientId}`, ...(f.vNummer ? { identifier: { system: SYSTEM.vNummer, value: f.vNummer } } : {}) } },
    ]
    if (f.taskId) part.push({ name: 'task', valueReference: { reference: `Task/${f.taskId}` } })
    if (f.plannedStart) part.push({ name: 'planned', valueDateTime: f.plannedStart.toISOString() })
    if (f.formVersion) part.push({ name: 'formVersion', valueString: f.formVersion })
    if (f.currentVersion) part.push({ name: 'currentFormVersion', valueString: f.currentVersion })
    parameter.push({ name: 'finding', part })
  }
  return { resourceType: 'Parameters', parameter }
}
