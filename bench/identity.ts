/**
 * The benchmark's identity provider: an ES256 key pair whose public half the service trusts through
 * OVERDRACHT_AUTH_JWKS_FILE, exactly as it would trust an organisation's identity provider.
 */
import { writeFile } from 'node:fs/promises'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'

export const BENCH_ISSUER = 'https://idp.bench.overdracht.invalid'
export const BENCH_AUDIENCE = 'urn:overdracht:bench'

export interface BenchIdentityProvider {
  jwksFile: string
  token(claims: Record<string, unknown>, lifetimeSeconds?: number): Promise<string>
}

export async function createBenchIdentityProvider(jwksFile: string): Promise<BenchIdentityProvider> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = 'bench-idp-1'
  await writeFile(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }))
  const key: CryptoKey = privateKey
  return {
    jwksFile,
    async token(claims, lifetimeSeconds = 4 * 3600) {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuer(BENCH_ISSUER)
        .setAudience(BENCH_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + lifetimeSeconds)
        .sign(key)
    },
  }
}
