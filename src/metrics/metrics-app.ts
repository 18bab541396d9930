import { timingSafeEqual, createHash } from 'node:crypto'
import { Hono } from 'hono'
/** Where the exposition comes from: one process's registry, or the primary's aggregate of all. */
export interface MetricsSource {
  metrics(): Promise<string>
  contentType: string
}

/**
 * The Prometheus exposition, served on its own listener (OVERDRACHT_METRICS_PORT), apart from the
 * API so that it can stay inside the operator's network. With a token configured, a scrape must
 * present it as a Bearer token.
 */
export function createMetricsApp(source: MetricsSource, token: string | undefined): Hono {
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
    const body = await source.metrics()
    c.header('Cache-Control', 'no-store')
    return c.body(body, 200, { 'Content-Type': source.contentType })
  })
  app.notFound((c) => c.text('not found; the metrics are at /metrics\n', 404))
  return app
}

// Equal-length inputs for timingSafeEqual, whatever was presented.
const digest = (value: string) => createHash('sha256').update(value).digest()
