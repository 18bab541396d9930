import type { FlattenedJWSInput, JWTPayload, JWTVerifyGetKey, JWTVerifyResult, ResolvedKey } from 'jose'

/**
 * Signature verifications remembered for a short while. A caller sends the same bearer token,
 * and an escort nurse the same consent token, with every request; an ES256 verification costs
 * about as much CPU as the rest of a dossier read (bench/crypto-cost.ts). A hit is the same bytes
 * this process verified with the same key source less than `TTL_MS` ago, and the key source still
 * gives the same key for the token's header now (the consent key ring checks there that the key is
 * not retired); the time claims (`exp`, `nbf`) are checked again against the current time at every
 * hit. Anything else falls through to a full verification, whose error is the one reported.
 *
 * Why this weakens nothing: the signature of identical bytes under an unchanged key cannot change
 * its verdict, and the keys themselves are cached for 60 s by their sources already (the consent
 * key ring's `signing_key` rows, jose's JWKS cache), so a retired or removed key is noticed no
 * later than before. Withdrawal, erasure and the BIG register are decided per request on current
 * facts, never from a token: nothing of them is cached here. Failures are never cached.
 */

const TTL_MS = 60_000
const MAX_ENTRIES = 10_000

type Verified = JWTVerifyResult<JWTPayload> & ResolvedKey

interface Entry {
  result: Verified
  until: number
}

const caches = new WeakMap<object, Map<string, Entry>>()

/** `verify` (a jose jwtVerify of `token` with `getKey`) through the cache of that key source. */
export async function verifiedJwt(
  getKey: JWTVerifyGetKey,
  token: string,
  now: Date,
  toleranceSeconds: number,
  verify: () => Promise<Verified>,
): Promise<Verified> {
  let cache = caches.get(getKey)
  if (!cache) {
    cache = new Map()
    caches.set(getKey, cache)
  }
  const entry = cache.get(token)
  const at = performance.now()
  if (entry && entry.until > at && timeClaimsHold(entry.result.payload, now, toleranceSeconds) && (await sameKey(getKey, entry.result))) return entry.result
  const result = await verify()
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!)
  cache.delete(token)
  cache.set(token, { result, until: at + TTL_MS })
  return result
}

/** Whether the key source still resolves the token's header to the key that verified it. */
async function sameKey(getKey: JWTVerifyGetKey, verified: Verified): Promise<boolean> {
  try {
    return (await getKey(verified.protectedHeader, { payload: '', signature: '' } as FlattenedJWSInput)) === verified.key
  } catch {
    return false
  }
}

function timeClaimsHold(payload: JWTPayload, now: Date, toleranceSeconds: number): boolean {
  const t = now.getTime() / 1000
  if (typeof payload.exp !== 'number' || payload.exp <= t - toleranceSeconds) return false
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > t + toleranceSeconds)) return false
  return true
}
