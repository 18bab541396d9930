import type { Deps } from '../deps.js'
import { randomUUID } from 'node:crypto'
import { errors, jwtVerify, SignJWT } from 'jose'
import { verifiedJwt } from '../http/verified-jwt-cache.js'
import type { Clock } from '../clock.js'
import type { Actor, TokenFact } from '../access/policy.js'
import { CONSENT_TOKEN_ALG, type ConsentKeyRing } from './consent-keys.js'

export const CONSENT_TOKEN_TYPE = 'consent+jwt'

export interface ConsentTokenClaims {
  /** Pseudonymous patient reference: the service's own patient id, never a V-nummer or BSN. */
  patientId: string
  consentId: string
  purpose: string
  recipient?: Actor
  notBefore?: Date
  expiresAt: Date
}

export interface TokenSettings {
  issuer: string
  audience: string
}

/** Signs a consent token. It carries references only: no medical data, no V-nummer, no BSN. */
export async function issueConsentToken(
  keys: ConsentKeyRing,
  settings: TokenSettings,
  clock: Clock,
  claims: ConsentTokenClaims,
): Promise<{ token: string; jti: string }> {
  const { kid, key } = await keys.signingKey()
  const jti = randomUUID()
  const now = clock.now()
  const rcp = claims.recipient
    ? Object.fromEntries(
        Object.entries({ org: claims.recipient.org, org_type: claims.recipient.orgType, big: claims.recipient.big }).filter(
          ([, v]) => v !== undefined,
        ),
      )
    : undefined
  const jwt = new SignJWT({ cid: claims.consentId, pur: claims.purpose, ...(rcp ? { rcp } : {}) })
    .setProtectedHeader({ alg: CONSENT_TOKEN_ALG, typ: CONSENT_TOKEN_TYPE, kid })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(claims.patientId)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(claims.expiresAt.getTime() / 1000))
    .setJti(jti)
  if (claims.notBefore) jwt.setNotBefore(Math.floor(claims.notBefore.getTime() / 1000))
  return { token: await jwt.sign(key), jti }
}

/**
 * Verifies a consent token's signature, type, issuer, audience and times. The consent it names is
 * checked by the policy against the live record on every request, so a withdrawal takes effect at
 * once whatever the token's expiry.
 */
export async function verifyConsentToken(
  token: string,
  keys: ConsentKeyRing,
  settings: TokenSettings,
  clock: Clock,
): Promise<TokenFact> {
  try {
    const now = clock.now()
    const { payload } = await verifiedJwt(keys.verificationKeys, token, now, 5, () =>
      jwtVerify(token, keys.verificationKeys, {
        issuer: settings.issuer,
        audience: settings.audience,
        typ: CONSENT_TOKEN_TYPE,
        algorithms: [CONSENT_TOKEN_ALG],
        requiredClaims: ['sub', 'exp', 'jti', 'cid', 'pur'],
        currentDate: now,
        clockTolerance: 5,
      }),
    )
    const { sub, cid, pur, rcp, exp } = payload as Record<string, unknown>
    if (typeof sub !== 'string' || typeof cid !== 'string' || typeof pur !== 'string' || typeof exp !== 'number') {
      return { valid: false, problem: 'Consent token claims are malformed' }
    }
    let recipient: Actor | undefined
    if (rcp !== undefined) {
      if (typeof rcp !== 'object' || rcp === null) return { valid: false, problem: 'Consent token recipient is malformed' }
      const r = rcp as Record<string, unknown>
      recipient = {
        ...(typeof r.org === 'string' ? { org: r.org } : {}),
        ...(typeof r.org_type === 'string' ? { orgType: r.org_type } : {}),
        ...(typeof r.big === 'string' ? { big: r.big } : {}),
      }
      if (Object.keys(recipient).length === 0) return { valid: false, problem: 'Consent token recipient is malformed' }
    }
    return {
      valid: true,
      patientId: sub,
      consentId: cid,
      purpose: pur,
      ...(recipient ? { recipient } : {}),
      expiresAt: new Date(exp * 1000),
    }
  } catch (err) {
    return { valid: false, problem: describeConsentTokenError(err) }
  }
}

function describeConsentTokenError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'Consent token has expired'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'Consent token is not yet valid'
    if (err.claim === 'typ') return 'Token is not a consent token (typ must be consent+jwt)'
    if (err.claim === 'aud') return 'Consent token is meant for another audience'
    if (err.claim === 'iss') return 'Consent token was not issued by this service'
    return `Consent token claim "${err.claim}" is invalid`
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'Consent token signature is invalid'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'Consent token algorithm is not accepted'
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'Consent token is malformed'
  if (err instanceof Error && err.message.includes('unknown key')) return 'Consent token is signed by an unknown key'
  return 'Consent token could not be verified'
}

/** Issuer and audience of the service's consent tokens, from the settings. */
export const tokenSettings = (deps: Pick<Deps, 'settings'>) => ({
  issuer: deps.settings.consentTokenIssuer,
  audience: deps.settings.consentTokenAudience,
})
