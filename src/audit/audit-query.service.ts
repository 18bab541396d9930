import type { AuditEvent, Bundle } from '@medplum/fhirtypes'
import type { Deps } from '../deps.js'
import { searchset } from '../fhir/searchset.js'
import type { AuditEventRow } from '../db/schema.js'
import { badRequest } from '../fhir/outcome.js'
import { withDecision } from '../access/enforce.js'
import { NO_RELATIONSHIP } from '../access/policy.js'
import { relationshipFact } from '../access/relationships.js'
import { findPatientRecord } from '../patient/patient.repository.js'
import type { AuditContext } from './audit.service.js'
import { rowToAuditEvent } from './audit-event.js'

export interface Period {
  from?: Date
  to?: Date
}

/** Midnight at the start of a calendar day in the Netherlands (CET or CEST), as an instant. */
export function amsterdamMidnight(day: string): Date {
  for (const offset of ['+01:00', '+02:00']) {
    const candidate = new Date(`${day}T00:00:00${offset}`)
    const hour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', hourCycle: 'h23' }).format(candidate)
    if (hour === '00') return candidate
  }
  return new Date(`${day}T00:00:00Z`)
}

/**
 * FHIR date search: `date=ge2026-11-01&date=lt2026-12-01`. A bare date means that whole day in the
 * Netherlands, as the person reading the log counts days; a date-time is taken as written.
 */
export function parseDateParams(values: string[]): Period {
  const period: Period = {}
  for (const raw of values) {
    const m = /^(ge|gt|le|lt|eq)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?)$/.exec(raw)
    if (!m) throw badRequest('date must be a FHIR date search value, e.g. ge2026-11-01', ['date'])
    if (Number(m[2]!.slice(0, 4)) < 1900) throw badRequest('date lies before 1900', ['date'])
    if (!isCalendarDate(m[2]!.slice(0, 10))) throw badRequest('date is not a valid calendar date', ['date'])
    const prefix = m[1] ?? 'eq'
    const at = m[3] ? new Date(m[2]!) : amsterdamMidnight(m[2]!)
    if (Number.isNaN(at.getTime())) throw badRequest('date is not a valid date', ['date'])
    const next = m[3] ? undefined : new Date(Date.parse(`${m[2]}T00:00:00Z`) + 24 * 3600_000).toISOString().slice(0, 10)
    const dayEnd = next ? amsterdamMidnight(next) : new Date(at.getTime() + 1)
    if (prefix === 'ge') period.from = at
    else if (prefix === 'gt') period.from = m[3] ? new Date(at.getTime() + 1) : dayEnd
    else if (prefix === 'lt') period.to = at
    else if (prefix === 'le') period.to = dayEnd
    else {
      period.from = at
      period.to = dayEnd
    }
  }
  return period
}

/** YYYY-MM-DD naming a day that exists (no month 13, no 31 February). */
function isCalendarDate(day: string): boolean {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number]
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

export const MAX_EVENTS = 10_000

export async function patientEvents(deps: Deps, patientId: string, period: Period, limit = MAX_EVENTS): Promise<AuditEventRow[]> {
  let q = deps.db.selectFrom('audit_event').selectAll().where('patient_id', '=', patientId)
  if (period.from) q = q.where('occurred_at', '>=', period.from)
  if (period.to) q = q.where('occurred_at', '<', period.to)
  return q.orderBy('occurred_at', 'asc').orderBy('id', 'asc').limit(limit).execute()
}

/**
 * The privacy officer's view of the log. The read itself is an audited decision, written before
 * the rows are returned.
 */
export async function readPatientLog(deps: Deps, ctx: AuditContext, patientId: string, period: Period, kind: 'search' | 'access-log') {
  return withDecision(deps, ctx, {
    action: 'audit.read',
    purpose: 'privacy-oversight',
    readOnly: true,
    gather: async (db) => {
      const patient = await findPatientRecord(db, patientId)
      const relationship = patient ? await relationshipFact(db, patientId, ctx.principal.org, deps.clock.now()) : NO_RELATIONSHIP
      return { facts: { patientExists: patient !== undefined, relationship }, subject: { patientId: patient?.id, resourceType: 'AuditEvent' }, data: undefined }
    },
    act: async () => {
      const rows = await patientEvents(deps, patientId, period)
      return {
        result: rows,
        audit: {
          detail: { kind, returned: rows.length, ...(period.from ? { from: period.from.toISOString() } : {}), ...(period.to ? { to: period.to.toISOString() } : {}) },
        },
      }
    },
  })
}

export async function searchAuditEvents(deps: Deps, ctx: AuditContext, patientId: string | undefined, period: Period): Promise<Bundle<AuditEvent>> {
  if (!patientId) throw badRequest('Search by patient=<id> is required', ['patient'])
  const rows = await readPatientLog(deps, ctx, patientId, period, 'search')
  return searchset(rows.map(rowToAuditEvent))
}
