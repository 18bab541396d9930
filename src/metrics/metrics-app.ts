import { timingSafeEqual, createHash } from 'node:crypto'
import { Hono } from 'hono'
import type { Metrics } from './metrics.js'

/**
 * The Prometheus exposition, served on its own listener (OVERDRACHT_METRICS_PORT), apart from the
 * API so that it can stay inside the operator's network. With a token configured, a scrape must
 * present it as a Bearer token.
 */
export function createMetricsApp(metrics: Metrics, token: string | undefined): Hono {
  const app = new Hono()
  const expected = token === undefined ? undefined : digest(token)
  app.get('/metrics', async (c) => {
    if (expected !== undefined) {
      const presented = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1]
      if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
        c.header('WWW-Authenticate', 'Bearer realm="overdracht-metrics"')
        return c.text('a metrics token is required\n', 401)
      }
    }
    const body = await metrics.registry.metrics()
    c.header('Cache-Control', 'no-store')
    return c.body(body, 200, { 'Content-Type': metrics.registry.contentType })
  })
  app.notFound((c) => c.text('not found; the metrics are at /metrics\n', 404))
  return app
}

// Equal-length inputs for timingSafeEqual, whatever was presented.
const digest = (value: string) => createHash('sha256').update(value).digest()
