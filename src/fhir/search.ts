import type { Bundle, BundleLink, OperationOutcome, Resource } from '@medplum/fhirtypes'
import { badRequest, issue } from './outcome.js'

/**
 * FHIR search as http://hl7.org/fhir/R4/search.html describes it, for the parameters each search
 * names: `_count` with a default and a maximum, `_summary=count`, stable paging by an opaque
 * position (`_page`, keyset: what is added later never shifts a page), `total`, and
 * `Prefer: handling=strict|lenient`. Lenient (the default) ignores what it does not know and says
 * so in an OperationOutcome entry; strict refuses it with 400.
 */

/** Parameters every search here understands besides its own. */
const RESULT_PARAMS = ['_count', '_summary', '_page', '_format']

export interface SearchSpec {
  /** The search parameters of this resource type. */
  params: readonly string[]
  defaultCount: number
  maxCount: number
}

export interface SearchRequest {
  /** The values of each known parameter, repetitions kept (`date=ge…&date=lt…`). */
  values: Map<string, string[]>
  count: number
  summaryCount: boolean
  /** The decoded `_page` position, if any. */
  page: unknown
  /** Warnings for the outcome entry (lenient handling). */
  warnings: string[]
}

export function preferStrict(prefer: string | undefined): boolean {
  if (!prefer) return false
  return prefer
    .split(/[;,]/)
    .map((p) => p.trim().toLowerCase().replace(/\s+/g, ''))
    .includes('handling=strict')
}

/** Reads a search request's query against a spec; refuses what is malformed, and under strict handling what is unknown. */
export function parseSearch(url: URL, prefer: string | undefined, spec: SearchSpec): SearchRequest {
  const strict = preferStrict(prefer)
  const values = new Map<string, string[]>()
  const warnings: string[] = []
  const unknown = (text: string, name: string) => {
    if (strict) throw badRequest(`${text} (Prefer: handling=strict)`, [name])
    warnings.push(`${text}; ignored`)
  }
  for (const [rawName, value] of url.searchParams) {
    // A modifier (`status:not`) or chained name is not offered: unknown as a whole.
    if (!spec.params.includes(rawName) && !RESULT_PARAMS.includes(rawName)) {
      unknown(`Unknown search parameter "${rawName}"; this search takes ${spec.params.join(', ')}, _count, _summary`, rawName)
      continue
    }
    const list = values.get(rawName) ?? []
    list.push(value)
    values.set(rawName, list)
  }
  const single = (name: string): string | undefined => {
    const list = values.get(name)
    if (list && list.length > 1) throw badRequest(`${name} is given more than once`, [name])
    return list?.[0]
  }
  let count = spec.defaultCount
  const rawCount = single('_count')
  if (rawCount !== undefined) {
    if (!/^\d{1,9}$/.test(rawCount)) throw badRequest('_count must be a whole number', ['_count'])
    count = Number(rawCount)
    if (count > spec.maxCount) {
      warnings.push(`_count ${count} is more than the maximum; ${spec.maxCount} are returned per page`)
      count = spec.maxCount
    }
  }
  let summaryCount = count === 0
  const summary = single('_summary')
  if (summary === 'count') summaryCount = true
  else if (summary !== undefined && summary !== 'false') {
    unknown(`_summary=${summary} is not offered (count and false are)`, '_summary')
  }
  let page: unknown
  const rawPage = single('_page')
  if (rawPage !== undefined) {
    try {
      page = JSON.parse(Buffer.from(rawPage, 'base64url').toString('utf8'))
    } catch {
      throw badRequest('_page is not a position this service handed out; follow the next link', ['_page'])
    }
  }
  values.delete('_count')
  values.delete('_summary')
  values.delete('_page')
  values.delete('_format')
  return { values, count, summaryCount, page, warnings }
}

export const encodePage = (position: unknown) => Buffer.from(JSON.stringify(position)).toString('base64url')

/** The one value of a parameter that takes one; 400 when repeated. */
export function singleValue(req: SearchRequest, name: string): string | undefined {
  const list = req.values.get(name)
  if (list && list.length > 1) throw badRequest(`${name} is given more than once`, [name])
  return list?.[0]
}

/** Comma-separated alternatives of a parameter (`a,b` matches either), escaped commas (`\,`) kept. */
export function orValues(value: string): string[] {
  return value
    .split(/(?<!\\),/)
    .map((v) => v.replace(/\\,/g, ',').trim())
    .filter((v) => v !== '')
}

export interface SearchPage<T extends Resource> {
  resources: readonly T[]
  /** Undefined where the caller did not ask for it (the web pages list without counting). */
  total?: number
  /** The position after the last resource of this page, when another page follows. */
  next?: unknown
}

/**
 * The searchset Bundle of one page: absolute fullUrls on the base, `self` for this page and `next`
 * when there is more, `total`, and an outcome entry for what lenient handling ignored.
 */
export function searchsetPage<T extends Resource>(base: string, resourceType: string, req: SearchRequest, page: SearchPage<T>): Bundle {
  const link = (relation: string, position: unknown): BundleLink => {
    const params = new URLSearchParams()
    for (const [name, list] of req.values) for (const v of list) params.append(name, v)
    if (req.summaryCount) params.set('_summary', 'count')
    else params.set('_count', String(req.count))
    if (position !== undefined) params.set('_page', encodePage(position))
    return { relation, url: `${base}/${resourceType}?${params.toString()}` }
  }
  const links = [link('self', req.page)]
  if (!req.summaryCount && page.next !== undefined) links.push(link('next', page.next))
  const entry: NonNullable<Bundle['entry']> = req.summaryCount
    ? []
    : page.resources.map((resource) => ({ fullUrl: `${base}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' as const } }))
  if (req.warnings.length) {
    const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: req.warnings.map((text) => ({ ...issue('not-supported', text), severity: 'warning' as const })) }
    entry.push({ resource: outcome, search: { mode: 'outcome' } })
  }
  return { resourceType: 'Bundle', type: 'searchset', ...(page.total !== undefined ? { total: page.total } : {}), link: links, ...(entry.length ? { entry } : {}) }
}

/** Pages a complete, ordered list in memory by offset: for searches whose matches are few by nature. */
export function pageOfList<T extends Resource>(all: readonly T[], req: SearchRequest): SearchPage<T> {
  const offset = typeof req.page === 'object' && req.page !== null && Number.isInteger((req.page as { o?: unknown }).o) ? (req.page as { o: number }).o : 0
  if (offset < 0) throw badRequest('_page is not a position this service handed out; follow the next link', ['_page'])
  const resources = all.slice(offset, offset + req.count)
  const end = offset + resources.length
  return { resources, total: all.length, ...(end < all.length && req.count > 0 ? { next: { o: end } } : {}) }
}

/**
 * Instance `_history`: every version of one resource, newest first, each with the interaction
 * that made it (create for version 1, update after) and its ETag.
 */
export function historyBundle<T extends Resource>(base: string, versions: readonly { resource: T; recordedAt: Date }[]): Bundle<T> {
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: versions.length,
    entry: versions.map(({ resource, recordedAt }) => {
      const version = resource.meta?.versionId ?? '1'
      const first = version === '1'
      return {
        fullUrl: `${base}/${resource.resourceType}/${resource.id}`,
        resource,
        request: { method: first ? ('POST' as const) : ('PUT' as const), url: first ? resource.resourceType : `${resource.resourceType}/${resource.id}` },
        response: { status: first ? '201 Created' : '200 OK', etag: `W/"${version}"`, lastModified: new Date(recordedAt).toISOString() },
      }
    }),
  }
}

/**
 * Whether a `_page` position's time is one the database wrote (`timestamptz::text`, e.g.
 * `2026-11-24 09:00:00.123+00`) naming a real instant: a forged one is refused (400) before it
 * reaches a statement.
 */
export function isDatabaseTimestamp(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?([+-]\d{2})(:\d{2})?$/.exec(text)
  if (!m) return false
  const [, y, mo, d, h, mi, se, frac = '', oh, om = ':00'] = m
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${se}${frac.slice(0, 4)}${oh}${om}`
  const at = Date.parse(iso)
  if (!Number.isFinite(at)) return false
  // Date.parse rolls 31 February over into March: the day must be the one written.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)))
  return day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d) && Number(h) < 24 && Number(mi) < 60 && Number(se) < 60
}
