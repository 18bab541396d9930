import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import type { CallerKeys } from '../../src/http/caller-auth.js'
import type { Clock } from '../../src/clock.js'

export const TEST_ISSUER = 'https://idp.test.overdracht.nl'
export const TEST_AUDIENCE = 'urn:overdracht:test'

export interface TestIdentityProvider {
  callerKeys: CallerKeys
  publicJwk: JWK
  privateKey: CryptoKey
  kid: string
  /** A signed caller token; `overrides` can set any header or claim, or drop claims with `undefined`. */
  token(claims: Record<string, unknown>, options?: TokenOptions): Promise<string>
}

export interface TokenOptions {
  issuer?: string
  audience?: string
  /** Seconds from the clock's now. */
  expiresIn?: number
  notBefore?: number
  kid?: string
  key?: CryptoKey
  alg?: string
  typ?: string
}

/** A real ES256 identity provider for the tests: its public key is what the app trusts. */
export async function createTestIdentityProvider(clock: Clock): Promise<TestIdentityProvider> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = 'test-idp-1'
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256' }
  return {
    publicJwk,
    privateKey,
    kid,
    callerKeys: { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, keys: createLocalJWKSet({ keys: [publicJwk] }), clockToleranceSeconds: 0 },
    async token(claims, options = {}) {
      const now = Math.floor(clock.now().getTime() / 1000)
      const jwt = new SignJWT(Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)))
        .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? kid, typ: options.typ ?? 'JWT' })
        .setIssuer(options.issuer ?? TEST_ISSUER)
        .setAudience(options.audience ?? TEST_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + (options.expiresIn ?? 3600))
      if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore)
      return jwt.sign(options.key ?? privateKey)
    },
  }
}
