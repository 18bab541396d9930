import { randomUUID } from 'node:crypto'
import {
  compactDecrypt,
  CompactEncrypt,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose'
import type { Clock } from '../clock.js'
import type { Db } from '../db/database.js'
import type { SigningKeyRow } from '../db/schema.js'
import type { MasterKey } from '../patient/envelope.js'

export const CONSENT_TOKEN_ALG = 'ES256'

/**
 * The service's consent-token keys. Private keys are stored encrypted under the master key.
 * Rotation makes a new signing key; a retired key keeps verifying until the last token it signed
 * has expired (`verify_until`), then leaves the published key set.
 */
export interface ConsentKeyRing {
  signingKey(): Promise<{ kid: string; key: CryptoKey }>
  verificationKeys: JWTVerifyGetKey
  publicJwks(): Promise<JSONWebKeySet>
  /** Retires the signing key; pass the longest lifetime a token can have (`MAX_TOKEN_LIFETIME_MS`). */
  rotate(maxTokenLifetimeMs: number): Promise<string>
}

export function createConsentKeyRing(db: Db, masterKey: MasterKey, clock: Clock): ConsentKeyRing {
  let cache: { rows: SigningKeyRow[]; loadedAt: number } | undefined
  const privateKeys = new Map<string, CryptoKey>()
  const publicKeys = new Map<string, CryptoKey>()

  async function load(force = false): Promise<SigningKeyRow[]> {
    if (!force && cache && Date.now() - cache.loadedAt < 60_000) return cache.rows
    const rows = await db.selectFrom('signing_key').selectAll().orderBy('created_at', 'asc').execute()
    cache = { rows, loadedAt: Date.now() }
    return rows
  }

  const usable = (row: SigningKeyRow, now: Date) => row.verify_until === null || row.verify_until.getTime() > now.getTime()

  async function createKey(): Promise<SigningKeyRow> {
    const { publicKey, privateKey } = await generateKeyPair(CONSENT_TOKEN_ALG, { extractable: true })
    const kid = randomUUID()
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: CONSENT_TOKEN_ALG, use: 'sig' }
    const privateJwk = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(await exportJWK(privateKey))))
      .setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM', kid: masterKey.id, skid: kid })
      .encrypt(masterKey.key)
    const row = {
      kid,
      alg: CONSENT_TOKEN_ALG,
      public_jwk: JSON.stringify(publicJwk),
      private_jwk: privateJwk,
      created_at: clock.now(),
      retired_at: null,
      verify_until: null,
    }
    await db.insertInto('signing_key').values(row).execute()
    return { ...row, public_jwk: publicJwk, created_at: row.created_at }
  }

  async function privateKeyOf(row: SigningKeyRow): Promise<CryptoKey> {
    const known = privateKeys.get(row.kid)
    if (known) return known
    const { plaintext, protectedHeader } = await compactDecrypt(row.private_jwk, masterKey.key, {
      keyManagementAlgorithms: ['A256KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    if (protectedHeader.skid !== row.kid) throw new Error('signing key record does not match its kid')
    const key = (await importJWK(JSON.parse(new TextDecoder().decode(plaintext)) as JWK, row.alg)) as CryptoKey
    privateKeys.set(row.kid, key)
    return key
  }

  async function activeRow(): Promise<SigningKeyRow> {
    let rows = await load()
    let active = rows.filter((r) => r.retired_at === null).at(-1)
    if (!active) {
      rows = await load(true)
      active = rows.filter((r) => r.retired_at === null).at(-1)
    }
    if (!active) {
      // First start: make the first key. Two instances racing make two keys; both verify.
      active = await createKey()
      await load(true)
    }
    return active
  }

  return {
    async signingKey() {
      const row = await activeRow()
      return { kid: row.kid, key: await privateKeyOf(row) }
    },

    verificationKeys: async (header) => {
      const now = clock.now()
      const kid = header.kid
      if (typeof kid !== 'string') throw new Error('consent token has no kid')
      let row = (await load()).find((r) => r.kid === kid)
      if (!row) row = (await load(true)).find((r) => r.kid === kid)
      if (!row || !usable(row, now) || row.alg !== header.alg) throw new Error('consent token signed by an unknown key')
      let key = publicKeys.get(kid)
      if (!key) {
        key = (await importJWK(row.public_jwk as JWK, row.alg)) as CryptoKey
        publicKeys.set(kid, key)
      }
      return key
    },

    async publicJwks() {
      await activeRow()
      const now = clock.now()
      return { keys: (await load()).filter((r) => usable(r, now)).map((r) => r.public_jwk as JWK) }
    },

    async rotate(maxTokenLifetimeMs: number) {
      const now = clock.now()
      // Other instances may sign with the old key until their key cache refreshes (60 s).
      await db
        .updateTable('signing_key')
        .set({ retired_at: now, verify_until: new Date(now.getTime() + maxTokenLifetimeMs + 120_000) })
        .where('retired_at', 'is', null)
        .execute()
      const row = await createKey()
      await load(true)
      return row.kid
    },
  }
}
