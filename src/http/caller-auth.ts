import type { MiddlewareHandler } from 'hono'
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import type { Clock } from '../clock.js'
import { unauthorized } from '../fhir/outcome.js'
import type { AppEnv } from './app-env.js'
import { ORG_TYPES, ROLES, type OrgType, type Principal, type Role } from './principal.js'
import { verifiedJwt } from './verified-jwt-cache.js'

/** Asymmetric algorithms only: a caller token signed with a shared secret is never accepted. */
export const CALLER_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA']

export interface CallerKeys {
  issuer: string
  audience: string
  keys: JWTVerifyGetKey
  clockToleranceSeconds: number
}

const BIG_PATTERN = /^\d{11}$/
/** C0 control characters: PostgreSQL refuses NUL in text, and none belongs in an identity claim. */
const CONTROL_CHARACTER = /[\u0000-\u001f]/
const IDENTITY_CLAIMS = ['sub', 'name', 'org', 'org_type', 'role', 'big'] as const
/** The `typ` header values of an access token (RFC 9068 `at+jwt`), or plain JWT. */
const CALLER_TOKEN_TYPES = ['jwt', 'at+jwt', 'application/at+jwt']

/** Verifies a caller's bearer token and turns its claims into a principal, or throws 401. */
export async function verifyCallerToken(
  token: string,
  callerKeys: CallerKeys,
  clock: Clock,
  accessPoint: string,
): Promise<Principal> {
  let payload: JWTPayload
  let typ: string | undefined
  try {
    const now = clock.now()
    const result = await verifiedJwt(callerKeys.keys, token, now, callerKeys.clockToleranceSeconds, () =>
      jwtVerify(token, callerKeys.keys, {
        issuer: callerKeys.issuer,
        audience: callerKeys.audience,
        algorithms: CALLER_ALGORITHMS,
        currentDate: now,
        clockTolerance: callerKeys.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      }),
    )
    payload = result.payload
    typ = result.protectedHeader.typ
  } catch (err) {
    throw unauthorized(describeJoseError(err))
  }
  // Only access-token types: a consent token (or any other typed JWT) is no identity.
  if (typ !== undefined && !CALLER_TOKEN_TYPES.includes(typ.toLowerCase())) {
    throw unauthorized(typ.toLowerCase().includes('consent') ? 'A consent token cannot be used as a caller token' : 'Token type is not a caller token')
  }
  return claimsToPrincipal(payload, accessPoint)
}

/** The identity claims of a caller token or an ID token, checked, as a principal; throws 401. */
export function claimsToPrincipal(payload: JWTPayload, accessPoint: string): Principal {
  const { sub, name, org, org_type: orgType, role, big } = payload as Record<string, unknown>
  // Before the other checks, so a claim that would fail in the database (or in the audit row of
  // the refusal) never reaches it.
  for (const claim of IDENTITY_CLAIMS) {
    const value = payload[claim]
    if (typeof value === 'string' && CONTROL_CHARACTER.test(value)) throw unauthorized(`Token claim "${claim}" contains a control character`)
  }
  if (typeof sub !== 'string' || sub === '') throw unauthorized('Token claim "sub" is missing')
  if (typeof org !== 'string' || org === '') throw unauthorized('Token claim "org" is missing')
  if (typeof orgType !== 'string' || !(ORG_TYPES as readonly string[]).includes(orgType)) {
    throw unauthorized(`Token claim "org_type" must be one of ${ORG_TYPES.join(', ')}`)
  }
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw unauthorized(`Token claim "role" must be one of ${ROLES.join(', ')}`)
  }
  if (big !== undefined && (typeof big !== 'string' || !BIG_PATTERN.test(big))) {
    throw unauthorized('Token claim "big" must be a string of 11 digits')
  }
  if (role === 'caregiver' && big === undefined) throw unauthorized('A caregiver token must carry the claim "big"')
  if (name !== undefined && typeof name !== 'string') throw unauthorized('Token claim "name" must be a string')
  return {
    sub,
    name: name as string | undefined,
    org,
    orgType: orgType as OrgType,
    role: role as Role,
    big: big as string | undefined,
    // jwtVerify checked it against the configured issuer.
    issuer: payload.iss!,
    accessPoint,
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'Token has expired'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'Token is not yet valid'
    if (err.claim === 'iss') return 'Token issuer is not accepted'
    if (err.claim === 'aud') return 'Token audience is not this service'
    return `Token claim "${err.claim}" is invalid`
  }
  if (err instanceof errors.JWKSNoMatchingKey) return 'Token is signed with an unknown key'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'Token algorithm is not accepted'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'Token signature is invalid'
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return 'Token keys could not be obtained'
  if (err instanceof errors.JOSEError) return 'Token is malformed or not acceptable'
  return 'Token is malformed'
}

export function accessPointOf(c: { env: unknown }): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress ?? 'unknown'
}

/** Requires a valid caller token on every request it guards. */
export function authenticate(callerKeys: CallerKeys, clock: Clock): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization')
    if (header === undefined) throw unauthorized('Authorization header with a Bearer token is required', null)
    const match = /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/i.exec(header.trim())
    if (!match?.[1]) throw unauthorized('Authorization header must be "Bearer <token>"', 'invalid_request')
    c.set('principal', await verifyCallerToken(match[1], callerKeys, clock, accessPointOf(c)))
    await next()
  }
}
