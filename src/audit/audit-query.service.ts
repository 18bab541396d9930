import type { AuditEvent } from '@medplum/fhirtypes'
import type { Deps } from '../deps.js'
import { isDatabaseTimestamp, type SearchPage, type SearchRequest } from '../fhir/search.js'
import { sql } from 'kysely'
import type { AuditEventRow } from '../db/schema.js'
import { badRequest, notFound } from '../fhir/outcome.js'
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

/** The facts of a read of a patient's log: whether the patient exists, and the caller's relationship. */
async function logFacts(deps: Deps, db: Deps['db'], ctx: AuditContext, patientId: string) {
  const patient = await findPatientRecord(db, patientId)
  const relationship = patient ? await relationshipFact(db, patientId, ctx.principal.org, deps.clock.now()) : NO_RELATIONSHIP
  return { facts: { patientExists: patient !== undefined, relationship }, subject: { patientId: patient?.id, resourceType: 'AuditEvent' }, data: undefined }
}

const periodDetail = (period: Period) => ({ ...(period.from ? { from: period.from.toISOString() } : {}), ...(period.to ? { to: period.to.toISOString() } : {}) })

/**
 * The privacy officer's view of the log. The read itself is an audited decision, written before
 * the rows are returned.
 */
export async function readPatientLog(deps: Deps, ctx: AuditContext, patientId: string, period: Period, kind: 'search' | 'access-log') {
  return withDecision(deps, ctx, {
    action: 'audit.read',
    purpose: 'privacy-oversight',
    readOnly: true,
    gather: (db) => logFacts(deps, db, ctx, patientId),
    act: async () => {
      const rows = await patientEvents(deps, patientId, period)
      return { result: rows, audit: { detail: { kind, returned: rows.length, ...periodDetail(period) } } }
    },
  })
}

/**
 * `GET /fhir/AuditEvent?patient=`: one page in the log's own order (time, then id). The log only
 * grows at its end, so a client paging through it never misses or repeats an entry.
 */
export async function searchAuditEvents(deps: Deps, ctx: AuditContext, patientId: string | undefined, period: Period, req: SearchRequest): Promise<SearchPage<AuditEvent>> {
  if (!patientId) throw badRequest('Search by patient=<id> is required', ['patient'])
  const after = req.page === undefined ? undefined : (req.page as { t?: unknown; i?: unknown })
  if (after !== undefined && (typeof after !== 'object' || after === null || typeof after.t !== 'string' || typeof after.i !== 'string' || !/^\d{1,18}$/.test(after.i) || !isDatabaseTimestamp(after.t))) {
    throw badRequest('_page is not a position this service handed out; follow the next link', ['_page'])
  }
  return withDecision(deps, ctx, {
    action: 'audit.read',
    purpose: 'privacy-oversight',
    readOnly: true,
    gather: (db) => logFacts(deps, db, ctx, patientId),
    act: async (db) => {
      let base = db.selectFrom('audit_event').where('patient_id', '=', patientId)
      if (period.from) base = base.where('occurred_at', '>=', period.from)
      if (period.to) base = base.where('occurred_at', '<', period.to)
      const counted = await base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
      const total = Number(counted.n)
      if (req.summaryCount) return { result: { resources: [], total } as SearchPage<AuditEvent>, audit: { detail: { kind: 'search', total, ...periodDetail(period) } } }
      // The position as the database writes the time: exact to the microsecond.
      let q = base.selectAll().select(sql<string>`occurred_at::text`.as('occurred_key'))
      if (after) q = q.where(sql<boolean>`(occurred_at, id) > (${after.t as string}::timestamptz, ${after.i as string}::bigint)`)
      const rows = await q.orderBy('occurred_at', 'asc').orderBy('id', 'asc').limit(req.count + 1).execute()
      const page = rows.slice(0, req.count)
      const last = page[page.length - 1]
      const next = rows.length > req.count && last ? { t: last.occurred_key, i: String(last.id) } : undefined
      return {
        result: { resources: page.map(rowToAuditEvent), total, ...(next ? { next } : {}) } as SearchPage<AuditEvent>,
        audit: { detail: { kind: 'search', returned: page.length, total, ...periodDetail(period) } },
      }
    },
  })
}

/**
 * `GET /fhir/AuditEvent/{id}`: one entry of a patient's log, under the rule of the log itself. An
 * entry about no patient, or no entry, is decided as an unknown patient (and audited like any read).
 */
export async function readAuditEvent(deps: Deps, ctx: AuditContext, id: string): Promise<AuditEvent> {
  return withDecision(deps, ctx, {
    action: 'audit.read',
    purpose: 'privacy-oversight',
    readOnly: true,
    gather: async (db) => {
      const row = /^\d{1,18}$/.test(id) ? await db.selectFrom('audit_event').selectAll().where('id', '=', id).executeTakeFirst() : undefined
      const unknown = { facts: { patientExists: false, relationship: NO_RELATIONSHIP }, subject: { resourceType: 'AuditEvent' }, data: undefined }
      if (!row?.patient_id) return unknown
      const gathered = await logFacts(deps, db, ctx, row.patient_id)
      // Entry ids count up: an entry about a patient the caller's organisation never held is, to
      // it, no entry at all, so walking the ids maps nothing (404 either way).
      const { custodian, everCustodian } = gathered.facts.relationship
      if (!custodian && !everCustodian) return unknown
      return { ...gathered, data: row }
    },
    act: async (_db, _decision, row) => {
      if (!row) throw notFound()
      return { result: rowToAuditEvent(row), audit: { detail: { kind: 'read', returned: 1 } } }
    },
  })
}
