import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose'
import { describe, expect, it } from 'vitest'
import { verifiedJwt } from './verified-jwt-cache.js'

const { publicKey, privateKey } = await generateKeyPair('ES256')
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }
const sign = (exp: number, nbf?: number) => {
  const jwt = new SignJWT({ org: '90000001' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('s').setIssuedAt(1_796_000_000).setExpirationTime(exp)
  return (nbf !== undefined ? jwt.setNotBefore(nbf) : jwt).sign(privateKey)
}

/** A key source that counts signature verifications, and can be made to resolve no key. */
function counted() {
  const local = createLocalJWKSet({ keys: [jwk] })
  let usable = true
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (!usable) throw new Error('retired')
    return local(header, token)
  }
  let verifications = 0
  const verify = (token: string, now: Date) => async () => {
    verifications++
    return jwtVerify(token, getKey, { currentDate: now, clockTolerance: 5 })
  }
  return { getKey, verify, count: () => verifications, retire: () => (usable = false) }
}

describe('remembered signature verifications', () => {
  const now = new Date('2026-12-01T12:00:00Z')
  const t = now.getTime() / 1000

  it('the same token is verified once; a hit returns the same claims', async () => {
    const k = counted()
    const token = await sign(t + 3600)
    const a = await verifiedJwt(k.getKey, token, now, 5, k.verify(token, now))
    const b = await verifiedJwt(k.getKey, token, now, 5, k.verify(token, now))
    expect(k.count()).toBe(1)
    expect(b.payload).toEqual(a.payload)
  })

  it('a token that expired since is verified again, and refused as expired', async () => {
    const k = counted()
    const token = await sign(t + 60)
    await verifiedJwt(k.getKey, token, now, 5, k.verify(token, now))
    const later = new Date(now.getTime() + 120_000)
    await expect(verifiedJwt(k.getKey, token, later, 5, k.verify(token, later))).rejects.toThrow(/exp/)
    expect(k.count()).toBe(2)
  })

  it('a key the source no longer gives (retired) means a full verification, and its refusal', async () => {
    const k = counted()
    const token = await sign(t + 3600)
    await verifiedJwt(k.getKey, token, now, 5, k.verify(token, now))
    k.retire()
    await expect(verifiedJwt(k.getKey, token, now, 5, k.verify(token, now))).rejects.toThrow(/retired/)
    expect(k.count()).toBe(2)
  })

  it('a refusal is never remembered, and another token or key source is its own entry', async () => {
    const k = counted()
    const bad = `${(await sign(t + 3600)).slice(0, -4)}AAAA`
    for (let i = 0; i < 2; i++) await expect(verifiedJwt(k.getKey, bad, now, 5, k.verify(bad, now))).rejects.toThrow()
    expect(k.count()).toBe(2)
    const token = await sign(t + 3600)
    const other = counted()
    await verifiedJwt(k.getKey, token, now, 5, k.verify(token, now))
    await verifiedJwt(other.getKey, token, now, 5, other.verify(token, now))
    expect(other.count()).toBe(1)
  })

  it('a token not yet valid at a hit is verified again', async () => {
    const k = counted()
    const token = await sign(t + 3600, t + 30)
    const early = new Date(now.getTime() + 40_000)
    await verifiedJwt(k.getKey, token, early, 5, k.verify(token, early))
    await expect(verifiedJwt(k.getKey, token, now, 5, k.verify(token, now))).rejects.toThrow(/nbf/)
    expect(k.count()).toBe(2)
  })
})
