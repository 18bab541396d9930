import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics/metrics.js'
import type { AppEnv } from './app-env.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i
const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/

/**
 * The caller's correlation id, when it is one: a random (version 4) UUID in `X-Request-Id`, or the
 * trace id of a version-00 W3C `traceparent`. Both are random by construction; anything else (a
 * BSN, a V-nummer, a name an integrator chose, a zero-padded number) is not taken into logs and
 * audit entries, and a new id is made. The id correlates; it is not unique proof of one request.
 */
export function incomingRequestId(header: (name: string) => string | undefined): string | undefined {
  const id = header('x-request-id')?.trim()
  if (id && UUID_V4.test(id)) return id.toLowerCase()
  const trace = TRACEPARENT.exec(header('traceparent')?.trim().toLowerCase() ?? '')?.[1]
  if (trace && !/^0+$/.test(trace)) return trace
  return undefined
}

/**
 * Gives each request an id (the caller's, see `incomingRequestId`, or a new one; answered in
 * `X-Request-Id`) and writes one structured log line when
 * it ends: id, method, route pattern, status, duration. Never the path itself (it can hold ids),
 * the query, headers or bodies.
 */
export function requestContext(logger: Logger, metrics?: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = incomingRequestId((name) => c.req.header(name)) ?? randomUUID()
    const started = performance.now()
    c.set('requestId', requestId)
    c.set('logger', logger)
    c.header('X-Request-Id', requestId)
    metrics?.httpInFlight.inc()
    try {
      await next()
    } finally {
      metrics?.httpInFlight.dec()
    }
    const seconds = (performance.now() - started) / 1000
    const route = routePath(c)
    logger.info(
      { requestId, method: c.req.method, route, status: c.res.status, durationMs: Math.round(seconds * 10_000) / 10 },
      'request',
    )
    if (metrics) {
      const labels = { method: metricMethod(c.req.method), route: metricRoute(route), status: String(c.res.status) }
      metrics.httpRequests.inc(labels)
      metrics.httpDuration.observe(labels, seconds)
    }
  }
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
/** A method outside the usual ones is counted as OTHER: label values stay a closed set. */
const metricMethod = (method: string) => (METHODS.has(method) ? method : 'OTHER')
/** A route pattern from the app's own table (`/fhir/Patient/:id`), never the path; none matched: `unmatched`. */
const metricRoute = (route: string) => (route === '/*' || route === '*' || route === '' ? 'unmatched' : route)
