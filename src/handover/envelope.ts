import { createHash, randomBytes } from 'node:crypto'
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

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export async function encryptContent(text: string, dataKey: Uint8Array, bundleId: string): Promise<string> {
  return new CompactEncrypt(encoder.encode(text))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', bid: bundleId })
    .encrypt(dataKey)
}

export async function decryptContent(jwe: string, dataKey: Uint8Array, bundleId: string): Promise<string> {
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, dataKey, {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
  })
  if (protectedHeader.bid !== bundleId) throw new Error('ciphertext belongs to another bundle')
  return decoder.decode(plaintext)
}

/** Parses `OVERDRACHT_MASTER_KEY`: 32 bytes, base64 or base64url. */
export function parseMasterKey(text: string): MasterKey {
  const key = Buffer.from(text.trim(), 'base64')
  if (key.length !== 32) throw new Error('the master key must be 32 bytes, base64-encoded')
  // The id is a one-way fingerprint, not the key: it tells which master key wrapped a data key.
  const id = 'mk-' + createHash('sha256').update('overdracht-master-key-id').update(key).digest('hex').slice(0, 12)
  return { id, key: new Uint8Array(key) }
}
