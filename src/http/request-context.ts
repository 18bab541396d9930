import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { Logger } from 'pino'
import type { AppEnv } from './app-env.js'

/**
 * Gives each request an id (answered in `X-Request-Id`) and writes one structured log line when
 * it ends: id, method, route pattern, status, duration. Never the path itself (it can hold ids),
 * the query, headers or bodies.
 */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = randomUUID()
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
