import { Hono } from 'hono'
import type { AuditEvent, Bundle } from '@medplum/fhirtypes'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import { badRequest } from '../fhir/outcome.js'
import type { AppEnv } from '../http/app-env.js'
import { fhirBase, fhirJson } from '../http/fhir-io.js'
import { parseSearch, searchsetPage, singleValue, type SearchSpec } from '../fhir/search.js'

export const AUDIT_EVENT_SEARCH: SearchSpec = { params: ['patient', 'date'], defaultCount: 100, maxCount: 1000 }
import { renderAccessLogHtml } from './access-log-page.js'
import { rowToAccessLogEntry } from './access-log.js'
import { parseDateParams, readAuditEvent, readPatientLog, searchAuditEvents } from './audit-query.service.js'
import { rowToAuditEvent } from './audit-event.js'

export function auditRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()

  app.get('/AuditEvent/:id', async (c) => {
    return fhirJson(c, await readAuditEvent(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id')))
  })

  app.get('/AuditEvent', async (c) => {
    const req = parseSearch(new URL(c.req.url), c.req.header('prefer'), AUDIT_EVENT_SEARCH)
    const patient = singleValue(req, 'patient')?.replace(/^Patient\//, '')
    const period = parseDateParams(req.values.get('date') ?? [])
    const page = await searchAuditEvents(deps, auditContext(c.var.principal, c.var.requestId), patient, period, req)
    return fhirJson(c, searchsetPage(fhirBase(c, deps.settings.publicBaseUrl), 'AuditEvent', req, page))
  })

  /**
   * The patient's access log (Wabvpz art. 15e): who made the data available, who accessed it or
   * was refused. FHIR by default; `_format=html` (or Accept: text/html) gives a printable page,
   * `lang=nl` (default) or `lang=en`.
   */
  app.get('/Patient/:id/$access-log', async (c) => {
    const format = c.req.query('_format')
    const lang = c.req.query('lang') ?? 'nl'
    if (lang !== 'nl' && lang !== 'en') throw badRequest('lang must be nl or en', ['lang'])
    const html = format === 'html' || format === 'text/html' || (format === undefined && (c.req.header('accept') ?? '').includes('text/html'))
    if (format !== undefined && !html && format !== 'json' && format !== 'application/fhir+json') {
      throw badRequest('_format must be json or html', ['_format'])
    }
    const period = parseDateParams(c.req.queries('date') ?? [])
    const patientId = c.req.param('id')
    const rows = await readPatientLog(deps, auditContext(c.var.principal, c.var.requestId), patientId, period, 'access-log')
    if (html) {
      c.header('Cache-Control', 'no-store')
      // Not to be framed: a page of who saw a patient's data must not be overlaid by another site.
      c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      c.header('X-Frame-Options', 'DENY')
      return c.html(
        renderAccessLogHtml(rows.map(rowToAccessLogEntry), {
          lang,
          patientId,
          generatedAt: deps.clock.now(),
          ...(period.from ? { from: period.from } : {}),
          ...(period.to ? { to: period.to } : {}),
        }),
      )
    }
    const bundle: Bundle<AuditEvent> = {
      resourceType: 'Bundle',
      type: 'collection',
      timestamp: deps.clock.now().toISOString(),
      entry: rows.map((row) => ({ fullUrl: `AuditEvent/${row.id}`, resource: rowToAuditEvent(row) })),
    }
    return fhirJson(c, bundle)
  })

  return app
}
