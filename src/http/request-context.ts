import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { Logger } from 'pino'
import type { AppEnv } from './app-env.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/

/**
 * The caller's correlation id, when it is one: a UUID in `X-Request-Id`, or the trace id of a W3C
 * `traceparent`. Both are random by construction; anything else (which could be a BSN, a V-nummer
 * or a name an integrator chose) is not taken into logs and audit entries, and a new id is made.
 */
export function incomingRequestId(header: (name: string) => string | undefined): string | undefined {
  const id = header('x-request-id')?.trim()
  if (id && UUID.test(id)) return id.toLowerCase()
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
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = incomingRequestId((name) => c.req.header(name)) ?? randomUUID()
    const started = performance.now()
    c.set('requestId', requestId)
    c.set('logger', logger)
    c.header('X-Request-Id', requestId)
    await next()
    logger.info(
      {
        requestId,
        method: c.req.method,
        route: routePath(c),
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    )
  }
}
