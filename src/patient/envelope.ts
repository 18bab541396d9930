import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { CompactEncrypt } from 'jose'

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

/**
 * Unwraps a data key that `wrapDataKey` (jose) wrapped: AES key wrap (RFC 3394) of the content key
 * under the master key, then A256GCM of the data key, read with node:crypto. The same algorithms
 * and checks as jose's compactDecrypt, at about a tenth of its cost per dossier read (the
 * portable base64 and WebCrypto round trips; bench/crypto-cost.ts). Only `A256KW` + `A256GCM`, the
 * header parameters `wrapDataKey` writes, and the patient it names.
 */
export async function unwrapDataKey(wrapped: string, master: MasterKey, patientId: string): Promise<Uint8Array> {
  const jwe = parseCompactJwe(wrapped)
  if (jwe.protectedHeader.alg !== 'A256KW' || jwe.protectedHeader.enc !== 'A256GCM') throw new Error('JWE algorithm is not A256KW + A256GCM')
  if (Object.keys(jwe.protectedHeader).some((k) => !WRAP_HEADER_KEYS.has(k))) throw new Error('JWE protected header has unexpected parameters')
  const encryptedKey = Buffer.from(jwe.encryptedKey, 'base64url')
  if (encryptedKey.length !== 40) throw new Error('JWE encrypted key has the wrong length')
  let cek: Buffer
  try {
    const unwrap = createDecipheriv('id-aes256-wrap', master.key, AES_KW_IV)
    cek = Buffer.concat([unwrap.update(encryptedKey), unwrap.final()])
  } catch {
    throw new Error('decryption failed')
  }
  const plaintext = openGcm(jwe, cek)
  if (jwe.protectedHeader.pid !== patientId) throw new Error('wrapped key belongs to another patient')
  return new Uint8Array(plaintext)
}

/** RFC 3394's default initial value. */
const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex')
const WRAP_HEADER_KEYS = new Set(['alg', 'enc', 'kid', 'pid'])

interface CompactJwe {
  header: string
  protectedHeader: Record<string, unknown>
  encryptedKey: string
  iv: Buffer
  ciphertext: string
  tag: Buffer
}

/** The five parts of a compact JWE, base64url, with a JSON object as protected header, 96-bit IV and 128-bit tag. */
function parseCompactJwe(jwe: string): CompactJwe {
  const parts = jwe.split('.')
  if (parts.length !== 5) throw new Error('not a compact JWE')
  const [header, encryptedKey, ivText, ciphertext, tagText] = parts as [string, string, string, string, string]
  const base64url = /^[A-Za-z0-9_-]*$/
  // The ciphertext (the whole dossier, 40 KB) is not scanned: the tag authenticates the bytes it
  // decodes to, so a character outside the alphabet yields either other bytes, which fail the
  // tag, or the same bytes, which are the authentic ciphertext.
  if (![header, encryptedKey, ivText, tagText].every((p) => base64url.test(p)) || ciphertext.length % 4 === 1) {
    throw new Error('JWE is not base64url')
  }
  let protectedHeader: Record<string, unknown>
  try {
    protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>
  } catch {
    throw new Error('JWE protected header is not JSON')
  }
  if (typeof protectedHeader !== 'object' || protectedHeader === null || Array.isArray(protectedHeader)) throw new Error('JWE protected header is not an object')
  const iv = Buffer.from(ivText, 'base64url')
  const tag = Buffer.from(tagText, 'base64url')
  if (iv.length !== 12 || tag.length !== 16) throw new Error('JWE IV or tag has the wrong length')
  return { header, protectedHeader, encryptedKey, iv, ciphertext, tag }
}

/** A256GCM with the encoded protected header as additional data; the tag authenticates both. */
function openGcm(jwe: CompactJwe, key: Uint8Array): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, jwe.iv, { authTagLength: 16 })
  decipher.setAAD(Buffer.from(jwe.header, 'ascii'))
  decipher.setAuthTag(jwe.tag)
  try {
    return Buffer.concat([decipher.update(Buffer.from(jwe.ciphertext, 'base64url')), decipher.final()])
  } catch {
    throw new Error('decryption failed')
  }
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
  const parsed = parseCompactJwe(jwe)
  const { protectedHeader } = parsed
  if (protectedHeader.alg !== 'dir' || protectedHeader.enc !== 'A256GCM') throw new Error('JWE algorithm is not dir + A256GCM')
  if (Object.keys(protectedHeader).some((k) => !CONTENT_HEADER_KEYS.has(k))) throw new Error('JWE protected header has unexpected parameters')
  if (parsed.encryptedKey !== '') throw new Error('JWE with dir must have an empty encrypted key')
  const plaintext = openGcm(parsed, dataKey)
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
