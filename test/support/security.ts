import { createHmac, createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto'
import type { Hono } from 'hono'
import { inspectRoutes } from 'hono/dev'
import type { JWK } from 'jose'
import type { Clock } from '../../src/clock.js'
import { TEST_AUDIENCE, TEST_ISSUER } from './identity.js'

/** Routes anyone may call: everything else must demand a caller token. */
export const PUBLIC_ROUTES = ['GET /fhir/metadata', 'GET /fhir/CodeSystem/:id', 'GET /fhir/OperationDefinition/:id', 'GET /healthz', 'GET /readyz', 'GET /.well-known/jwks.json', 'GET /openapi.json', 'GET /escort-card/status/:jti', 'GET /escort-card/verify', 'GET /escort-card/verify.js', 'GET /escort-card/sw.js']

export interface AppRoute {
  method: string
  /** The pattern as the app registered it, e.g. `/fhir/Bundle/:id`. */
  pattern: string
  /** The pattern with every path parameter replaced by a random uuid. */
  path: string
  /** `GET /fhir/Bundle/:id`: for test names. */
  name: string
}

/** Every handler the app registered (middleware left out), one entry per method and pattern. */
export function appRoutes(app: Hono<any>): AppRoute[] {
  const seen = new Map<string, AppRoute>()
  for (const { method, path, isMiddleware } of inspectRoutes(app)) {
    if (isMiddleware) continue
    const name = `${method} ${path}`
    // `:id`, `:id?` and `:id{[0-9a-f-]+}` alike.
    seen.set(name, { method, pattern: path, path: path.replace(/:[A-Za-z0-9_]+(\{[^}]*\})?\??/g, () => randomUUID()), name })
  }
  return [...seen.values()]
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url')
const segment = (json: object) => b64url(JSON.stringify(json))

/**
 * The claims a correct token for `caller` would carry at the clock's now, for hand-built tokens.
 * `overrides` win over the standard claims; an `undefined` value drops the claim.
 */
export function standardClaims(clock: Clock, caller: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(clock.now().getTime() / 1000)
  const claims = { ...caller, iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 3600, ...overrides }
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined))
}

/** An unsecured JWT (RFC 7519 §6): `alg: none` and an empty signature. */
export function unsecuredJwt(payload: object, header: object = { alg: 'none', typ: 'JWT' }): string {
  return `${segment(header)}.${segment(payload)}.`
}

/** A JWT with an HMAC-SHA256 signature over `secret`, built by hand so no library can refuse the key. */
export function hs256Jwt(payload: object, secret: string | Buffer, header: object): string {
  const input = `${segment({ alg: 'HS256', typ: 'JWT', ...header })}.${segment(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** The public key as PEM (SubjectPublicKeyInfo), the other form a confused verifier may use as an HMAC secret. */
export function spkiPem(jwk: JWK): string {
  const { kid: _kid, alg: _alg, use: _use, ...key } = jwk
  return createPublicKey({ key: key as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
}

/** The same token with its payload replaced and its header and signature kept. */
export function withPayload(token: string, change: (payload: Record<string, unknown>) => Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
  return `${header}.${segment(change(claims))}.${signature}`
}

/** The parts of a credential that must never be echoed: the whole and each long enough segment of it. */
export function secretParts(credential: string): string[] {
  return [credential, ...credential.split('.').filter((part) => part.length >= 16)]
}
