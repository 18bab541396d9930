import type { Context, MiddlewareHandler } from 'hono'
import { OutcomeError, issue } from '../fhir/outcome.js'
import { FHIR_JSON } from '../fhir/systems.js'
import type { AppEnv } from './app-env.js'

/** The routes as the app registered them, for Allow headers. */
export type RouteTable = () => readonly { method: string; path: string }[]

const patternCache = new Map<string, RegExp>()
function patternOf(path: string): RegExp {
  let re = patternCache.get(path)
  if (!re) {
    const source = path
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')
    re = new RegExp(`^${source}/?$`)
    patternCache.set(path, re)
  }
  return re
}

/** The methods the app answers on this path (HEAD with GET, OPTIONS always); empty when no route has the path. */
export function allowedMethods(routes: RouteTable, path: string): string[] {
  const methods = new Set<string>()
  for (const r of routes()) {
    if (r.method === 'ALL' || r.path.includes('*')) continue
    if (patternOf(r.path).test(path)) methods.add(r.method)
  }
  if (methods.size === 0) return []
  if (methods.has('GET')) methods.add('HEAD')
  methods.add('OPTIONS')
  return [...methods].sort()
}

const ALLOW_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'If-None-Exist', 'Prefer', 'X-Consent-Token', 'X-Emergency-Reason', 'X-Request-Id', 'traceparent']
const EXPOSE_HEADERS = ['ETag', 'Location', 'Content-Location', 'Last-Modified', 'X-Request-Id', 'X-Consent-Token', 'X-Consent-Token-Expires', 'WWW-Authenticate', 'Retry-After']

/**
 * OPTIONS and CORS. `OPTIONS` is answered for every route without a token: 204 with `Allow` (and,
 * for an allowed origin, the preflight headers). A request from an allowed origin gets
 * `Access-Control-Allow-Origin` and the headers a FHIR client reads; any other origin gets no CORS
 * header, so a browser refuses it the answer. Bearer tokens only: no credentials mode.
 */
export function optionsAndCors(origins: readonly string[], routes: RouteTable): MiddlewareHandler<AppEnv> {
  const allowed = new Set(origins)
  return async (c, next) => {
    const origin = c.req.header('origin')
    const corsOk = origin !== undefined && allowed.has(origin)
    if (c.req.method === 'OPTIONS') {
      const methods = allowedMethods(routes, new URL(c.req.url).pathname)
      if (methods.length === 0) throw new OutcomeError(404, [issue('not-found', 'No such endpoint')])
      // Through the context, so the answer keeps the request id and the security headers.
      c.header('Allow', methods.join(', '))
      c.header('Vary', 'Origin')
      if (corsOk) {
        c.header('Access-Control-Allow-Origin', origin)
        c.header('Access-Control-Allow-Methods', methods.join(', '))
        c.header('Access-Control-Allow-Headers', ALLOW_HEADERS.join(', '))
        c.header('Access-Control-Max-Age', '600')
      }
      return c.body(null, 204)
    }
    await next()
    if (corsOk) {
      c.res.headers.set('Access-Control-Allow-Origin', origin)
      c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS.join(', '))
    }
    if (allowed.size > 0) c.res.headers.append('Vary', 'Origin')
  }
}

/** 405 with Allow for a path the app has with other methods; undefined when it has no such path. */
export function methodNotAllowed(c: Context, routes: RouteTable): OutcomeError | undefined {
  const methods = allowedMethods(routes, new URL(c.req.url).pathname)
  if (methods.length === 0 || methods.includes(c.req.method)) return undefined
  return new OutcomeError(405, [issue('not-supported', `${c.req.method} is not supported here; use ${methods.join(', ')}`)], { Allow: methods.join(', ') })
}

const JSON_TYPES = new Set(['json', 'application/json', FHIR_JSON, 'application/json+fhir'])
const HTML_TYPES = new Set(['html', 'text/html'])

/** Whether a media type's fhirVersion parameter, if any, names R4. */
function isR4(params: string[]): boolean {
  const version = params.find((p) => p.startsWith('fhirversion='))?.slice('fhirversion='.length).replace(/"/g, '')
  return version === undefined || version === '4.0' || version === '4.0.1'
}

/**
 * Content negotiation under /fhir: the service speaks FHIR R4 JSON (and HTML for the printable
 * access log). `_format` naming anything else, an `Accept` no JSON answer satisfies, or a
 * `fhirVersion` other than 4.0 in Accept get 406; a request body declared as another FHIR
 * version gets 415.
 */
export function negotiate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = new URL(c.req.url).pathname
    const html = path.endsWith('/$access-log') || path.endsWith('/$escort-card')
    const format = c.req.query('_format')
    if (format !== undefined && !JSON_TYPES.has(format.toLowerCase()) && !(html && HTML_TYPES.has(format.toLowerCase()))) {
      throw new OutcomeError(406, [issue('not-supported', `_format ${format.slice(0, 40)} is not spoken here: the service answers ${FHIR_JSON} (FHIR R4)`, ['_format'])])
    }
    const accept = c.req.header('accept')
    if (accept !== undefined && accept.trim() !== '' && format === undefined) {
      const ranges = accept.split(',').map((r) => r.split(';').map((s) => s.trim().toLowerCase()))
      const ok = ranges.some(([type, ...params]) => {
        const q = params.find((p) => p.startsWith('q='))
        if (q !== undefined && Number(q.slice(2)) === 0) return false
        if (type === '*/*' || type === 'application/*' || type === 'application/json' || type === FHIR_JSON || type === 'application/json+fhir') return isR4(params)
        return html && type === 'text/html'
      })
      if (!ok) throw new OutcomeError(406, [issue('not-supported', `Accept: the service answers ${FHIR_JSON} with fhirVersion 4.0 (FHIR R4) only`)])
    }
    const contentType = c.req.header('content-type')
    if (contentType !== undefined) {
      const [, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase())
      if (!isR4(params)) throw new OutcomeError(415, [issue('not-supported', 'Content-Type: the service reads FHIR R4 (fhirVersion 4.0) only')])
    }
    await next()
  }
}
