import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './app-env.js'

/**
 * Authenticated answers are about people: no browser, proxy or CDN may keep a copy. Set after the
 * handler (and after the error handler), so it holds for every answer whatever the route set.
 */
export function noStore(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    c.header('Cache-Control', 'no-store')
  }
}
