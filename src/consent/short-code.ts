import { createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { Executor } from '../db/executor.js'
import type { Deps } from '../deps.js'
import { decryptContent, encryptContent } from '../patient/envelope.js'

/**
 * Short codes: a consent token in ten characters that a person can read out, type on a phone or
 * write down, for when the QR code cannot be scanned. A code only carries a token: whoever types it
 * still reads the dossier through `readDossier`, which verifies the token and decides as for a
 * scanned one (a caregiver whom the BIG register confirms, the token's patient and recipient, the
 * consent in force). The code adds no access of its own.
 *
 * Ten characters of Crockford's base32 are 50 bits. With five failed attempts per person per
 * quarter of an hour, guessing any of a thousand live codes takes on the order of 10^11 years.
 * The table holds an HMAC of the code and the token encrypted under a key derived from the code
 * and the master key: a copy of the database yields neither.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const SHORT_CODE_LENGTH = 10
/** A code lives as long as its token, and no longer than a working day. */
export const SHORT_CODE_MAX_LIFETIME_MS = 12 * 60 * 60 * 1000
/** Failed attempts a person may make in the window before further attempts are refused. */
export const SHORT_CODE_ATTEMPTS = 5
export const SHORT_CODE_WINDOW_MS = 15 * 60 * 1000

interface CodeKeys {
  lookup: Buffer
  content: Buffer
}

const keysFor = new WeakMap<Uint8Array, CodeKeys>()
function codeKeys(masterKey: Uint8Array): CodeKeys {
  let keys = keysFor.get(masterKey)
  if (!keys) {
    const okm = Buffer.from(hkdfSync('sha256', masterKey, new Uint8Array(0), 'overdracht short code v1', 64))
    keys = { lookup: okm.subarray(0, 32), content: okm.subarray(32) }
    keysFor.set(masterKey, keys)
  }
  return keys
}

const codeHash = (keys: CodeKeys, code: string) => createHmac('sha256', keys.lookup).update(`code|${code}`).digest('base64url')
const tokenKey = (keys: CodeKeys, code: string) => new Uint8Array(createHmac('sha256', keys.content).update(`code|${code}`).digest())
const subjectHash = (keys: CodeKeys, sub: string) => createHmac('sha256', keys.lookup).update(`attempt|${sub}`).digest('base64url')

/** A new random code: each byte's low five bits pick a character (32 divides 256, so evenly). */
function newCode(): string {
  return [...randomBytes(SHORT_CODE_LENGTH)].map((b) => ALPHABET[b & 31]).join('')
}

/** The code as shown: two groups of five. */
export const formatShortCode = (code: string): string => `${code.slice(0, 5)}-${code.slice(5)}`

/**
 * What a person typed, as a code: case, spaces and hyphens ignored, and the letters people
 * confuse with digits read as those digits (O as 0, I and L as 1), as Crockford's base32 does.
 * Undefined when it cannot be a code.
 */
export function normaliseShortCode(input: string): string | undefined {
  const code = input
    .toUpperCase()
    .replace(/[\s-]+/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1')
  if (code.length !== SHORT_CODE_LENGTH) return undefined
  return [...code].every((ch) => ALPHABET.includes(ch)) ? code : undefined
}

/** Stores a short code for a token just issued; returns the code as shown. */
export async function createShortCode(
  deps: Pick<Deps, 'db' | 'clock' | 'masterKey'>,
  token: { token: string; expiresAt: Date; patientId: string; consentId: string },
): Promise<{ code: string; expiresAt: Date }> {
  const keys = codeKeys(deps.masterKey.key)
  const now = deps.clock.now()
  const expiresAt = new Date(Math.min(token.expiresAt.getTime(), now.getTime() + SHORT_CODE_MAX_LIFETIME_MS))
  await deps.db.deleteFrom('consent_short_code').where('expires_at', '<=', now).execute()
  for (;;) {
    const code = newCode()
    const hash = codeHash(keys, code)
    const inserted = await deps.db
      .insertInto('consent_short_code')
      .values({
        code_hash: hash,
        patient_id: token.patientId,
        consent_id: token.consentId,
        token: await encryptContent(token.token, tokenKey(keys, code), `short-code:${hash}`),
        created_at: now,
        expires_at: expiresAt,
      })
      .onConflict((oc) => oc.column('code_hash').doNothing())
      .executeTakeFirst()
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { code: formatShortCode(code), expiresAt }
  }
}

export type Redemption = { kind: 'token'; token: string } | { kind: 'unknown' } | { kind: 'limited' }

/**
 * The token behind a typed code. Refused without looking when the person has used up their
 * failed attempts; an unknown, malformed or expired code counts as a failed attempt.
 */
export async function redeemShortCode(deps: Pick<Deps, 'db' | 'clock' | 'masterKey'>, sub: string, input: string): Promise<Redemption> {
  const keys = codeKeys(deps.masterKey.key)
  const now = deps.clock.now()
  const subject = subjectHash(keys, sub)
  const since = new Date(now.getTime() - SHORT_CODE_WINDOW_MS)
  const failed = await deps.db
    .selectFrom('short_code_attempt')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('subject_hash', '=', subject)
    .where('at', '>', since)
    .executeTakeFirstOrThrow()
  if (Number(failed.n) >= SHORT_CODE_ATTEMPTS) return { kind: 'limited' }
  const code = normaliseShortCode(input)
  const hash = code ? codeHash(keys, code) : undefined
  const row = hash
    ? await deps.db.selectFrom('consent_short_code').select('token').where('code_hash', '=', hash).where('expires_at', '>', now).executeTakeFirst()
    : undefined
  if (!row || !code || !hash) {
    await recordFailedShortCode(deps, sub)
    return { kind: 'unknown' }
  }
  return { kind: 'token', token: await decryptContent(row.token, tokenKey(keys, code), `short-code:${hash}`) }
}

/**
 * Counts a failed attempt: an unknown code, or a code whose token the rules then refused (a code
 * made for someone else), so that the answer does not tell which codes exist beyond the limit.
 */
export async function recordFailedShortCode(deps: Pick<Deps, 'db' | 'clock' | 'masterKey'>, sub: string): Promise<void> {
  const keys = codeKeys(deps.masterKey.key)
  const now = deps.clock.now()
  const subject = subjectHash(keys, sub)
  await deps.db.deleteFrom('short_code_attempt').where('subject_hash', '=', subject).where('at', '<=', new Date(now.getTime() - SHORT_CODE_WINDOW_MS)).execute()
  await deps.db.insertInto('short_code_attempt').values({ subject_hash: subject, at: now }).execute()
}

/** Withdrawal ends the codes of a consent. */
export async function deleteShortCodesOfConsent(trx: Executor, consentId: string): Promise<void> {
  await trx.deleteFrom('consent_short_code').where('consent_id', '=', consentId).execute()
}

/** Erasure ends every code of the patient. */
export async function deleteShortCodesOfPatient(trx: Executor, patientId: string): Promise<void> {
  await trx.deleteFrom('consent_short_code').where('patient_id', '=', patientId).execute()
}
