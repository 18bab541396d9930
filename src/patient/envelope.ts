import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { compactDecrypt, CompactEncrypt } from 'jose'

/**
 * Envelope encryption. Each patient has a random 256-bit data key; bundles are encrypted with it
 * (JWE, `dir` + A256GCM), and the data key is stored wrapped by the master key (JWE, A256KW +
 * A256GCM). The JWE protected header names the bundle and patient, and is authenticated, so a
 * ciphertext moved to another row fails to decrypt as that row.
 */
export interface MasterKey {
  id: string
  key: Uint8Array
}

export const newDataKey = (): Uint8Array => new Uint8Array(randomBytes(32))

export async function wrapDataKey(dataKey: Uint8Array, master: MasterKey, patientId: string): Promise<string> {
  return new CompactEncrypt(dataKey)
    .setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM', kid: master.id, pid: patientId })
    .encrypt(master.key)
}

export async function unwrapDataKey(wrapped: string, master: MasterKey, patientId: string): Promise<Uint8Array> {
  const { plaintext, protectedHeader } = await compactDecrypt(wrapped, master.key, {
    keyManagementAlgorithms: ['A256KW'],
    contentEncryptionAlgorithms: ['A256GCM'],
  })
  if (protectedHeader.pid !== patientId) throw new Error('wrapped key belongs to another patient')
  return plaintext
}

const CONTENT_HEADER_KEYS = new Set(['alg', 'enc', 'bid'])

/**
 * Encrypts content as a compact JWE (`dir` + A256GCM) whose protected header names the bundle.
 * Written with node:crypto rather than jose: the same JWE (RFC 7516 compact serialisation, AAD =
 * the encoded protected header, 96-bit IV, 128-bit tag), but jose's portable base64 and WebCrypto
 * round trips cost ~0.4 ms per 30 KB dossier; this costs ~0.03 ms. jose reads it, and this reads
 * jose's (envelope.test.ts).
 */
export async function encryptContent(text: string, dataKey: Uint8Array, bundleId: string): Promise<string> {
  const header = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', bid: bundleId })).toString('base64url')
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv)
  cipher.setAAD(Buffer.from(header, 'ascii'))
  const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()])
  return `${header}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
}

/**
 * Decrypts what `encryptContent` (or jose, with the same header) wrote. Accepts only `dir` +
 * A256GCM with an empty encrypted key, a 96-bit IV and a 128-bit tag, no other header parameters;
 * the tag authenticates the header, so a ciphertext moved to another row fails here.
 */
export async function decryptContent(jwe: string, dataKey: Uint8Array, bundleId: string): Promise<string> {
  const parts = jwe.split('.')
  if (parts.length !== 5) throw new Error('not a compact JWE')
  const [header, encryptedKey, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string]
  const base64url = /^[A-Za-z0-9_-]*$/
  if (!parts.every((p) => base64url.test(p))) throw new Error('JWE is not base64url')
  let protectedHeader: Record<string, unknown>
  try {
    protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>
  } catch {
    throw new Error('JWE protected header is not JSON')
  }
  if (typeof protectedHeader !== 'object' || protectedHeader === null || Array.isArray(protectedHeader)) throw new Error('JWE protected header is not an object')
  if (protectedHeader.alg !== 'dir' || protectedHeader.enc !== 'A256GCM') throw new Error('JWE algorithm is not dir + A256GCM')
  if (Object.keys(protectedHeader).some((k) => !CONTENT_HEADER_KEYS.has(k))) throw new Error('JWE protected header has unexpected parameters')
  if (encryptedKey !== '') throw new Error('JWE with dir must have an empty encrypted key')
  const iv = Buffer.from(ivText, 'base64url')
  const tag = Buffer.from(tagText, 'base64url')
  if (iv.length !== 12 || tag.length !== 16) throw new Error('JWE IV or tag has the wrong length')
  const decipher = createDecipheriv('aes-256-gcm', dataKey, iv, { authTagLength: 16 })
  decipher.setAAD(Buffer.from(header, 'ascii'))
  decipher.setAuthTag(tag)
  let plaintext: Buffer
  try {
    plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()])
  } catch {
    throw new Error('decryption failed')
  }
  if (protectedHeader.bid !== bundleId) throw new Error('ciphertext belongs to another bundle')
  return plaintext.toString('utf8')
}

/** Parses `OVERDRACHT_MASTER_KEY`: 32 bytes, base64 or base64url. */
export function parseMasterKey(text: string): MasterKey {
  const key = Buffer.from(text.trim(), 'base64')
  if (key.length !== 32) throw new Error('the master key must be 32 bytes, base64-encoded')
  // The id is a one-way fingerprint, not the key: it tells which master key wrapped a data key.
  const id = 'mk-' + createHash('sha256').update('overdracht-master-key-id').update(key).digest('hex').slice(0, 12)
  return { id, key: new Uint8Array(key) }
}
