/**
 * The BIG status rules (pure): one derivation for both adapters (SOAP and file).
 *
 * The register has no status field (shared/big-register/README.md §5, domain-nl.md §4); the
 * status is read from the registration dates, the judgment provisions and the profession.
 */
import type { BigPerson, BigRegistration, BigVerification, BigVerificationLimitation } from './big.types.js'
import { toRegisterDateTime } from './register-time.js'

/** Dutch names of the `ProfessionalGroupCode`s (README §4). */
export const PROFESSION_NAMES: Readonly<Record<string, string>> = Object.freeze({
  '01': 'arts',
  '02': 'tandarts',
  '03': 'verloskundige',
  '04': 'fysiotherapeut',
  '16': 'psychotherapeut',
  '17': 'apotheker',
  '25': 'gezondheidszorgpsycholoog',
  '30': 'verpleegkundige',
  '31': 'orthopedagoog-generalist',
  '81': 'physician assistant',
  '82': 'klinisch technoloog',
  '86': 'verzorgende individuele gezondheidszorg',
})

export function professionName(code: string): string | undefined {
  return Object.hasOwn(PROFESSION_NAMES, code) ? PROFESSION_NAMES[code] : undefined
}

/**
 * Professions that may receive medical dossiers by default (DESIGN §2): arts 01,
 * verpleegkundige 30, physician assistant 81, apotheker 17, gezondheidszorgpsycholoog 25,
 * psychotherapeut 16.
 *
 * The verpleegkundig specialist is not a professional group in the register: it is a specialism
 * (`TypeOfSpecialismId` 65–69, 76) on a verpleegkundige (30) registration (README §4), so code 30
 * covers it. Tandarts 02, verloskundige 03 and fysiotherapeut 04 are art. 3 professions too, but
 * are not in the default set.
 */
export const DEFAULT_ALLOWED_PROFESSIONS: ReadonlySet<string> = new Set(['01', '30', '81', '17', '25', '16'])

/**
 * Reads a configured list of profession codes, e.g. `"01,30,81"`. Throws on anything that is not
 * a two-digit code, so a typo in the configuration stops the service at start-up.
 */
export function parseAllowedProfessions(list: string): ReadonlySet<string> {
  const codes = list.split(',').map((c) => c.trim()).filter((c) => c !== '')
  const bad = codes.filter((c) => !/^\d{2}$/.test(c))
  if (bad.length > 0) throw new Error(`BIG profession codes must be two digits (e.g. 01,30); got: ${bad.join(', ')}`)
  if (codes.length === 0) throw new Error('BIG profession code list is empty')
  return new Set(codes)
}

/**
 * A BIG number as an 11-character string: digits only, left-padded with zeros (the SOAP service
 * returns numbers as decimals, dropping leading zeros). Undefined for anything else: signs,
 * spaces inside, letters, more than 11 digits, an empty string, a fraction.
 * Surrounding whitespace is tolerated.
 */
export function normalizeBigNumber(x: string | number): string | undefined {
  let digits: string
  if (typeof x === 'number') {
    if (!Number.isSafeInteger(x) || x < 0) return undefined
    digits = String(x)
  } else if (typeof x === 'string') {
    digits = x.trim()
  } else {
    return undefined
  }
  if (!/^\d{1,11}$/.test(digits)) return undefined
  return digits.padStart(11, '0')
}

/**
 * The status of `bigNumber` at `now`, read from what the register returned for it.
 *
 * Rules, in this order (README §5, DESIGN §2):
 * 1. Not a valid BIG number, or no registration with this number → `unknown`.
 * 2. No registration with this number that is current: current means a start date not in the
 *    future and an end date that is absent (`0001-01-01` on the wire) or in the future.
 *    An end date today or earlier, `0002-01-01` included, is passed → `ended`.
 *    Only registrations that have not started yet → `unknown`.
 * 3. A public judgment provision with a nil or future end date on any registration of the same
 *    person → `suspended`. This is the conservative reading of README §5 (a nil end date may
 *    also belong to a past measure, and every kind of public measure is counted, whatever its
 *    start date). Non-public judgments do not block.
 * 4. The profession of the current registration is not in `allowedProfessionCodes` →
 *    `profession-not-allowed`.
 * 5. Otherwise → `registered` (`verified: true`).
 *
 * Limitations of this registration that are current at `now` (started, end date absent or in
 * the future) are reported whatever the status; they do not change it.
 *
 * Times compare as Europe/Amsterdam wall-clock time, the register's own (README §3: no zone).
 * `checkedAt` is `now`; a cache sets it to the time it fetched the data.
 */
export function deriveBigStatus(
  bigNumber: string,
  persons: readonly BigPerson[],
  allowedProfessionCodes: ReadonlySet<string>,
  now: Date,
  source: BigVerification['source'],
): BigVerification {
  const number = normalizeBigNumber(bigNumber)
  const result = (fields: Pick<BigVerification, 'status'> & Partial<BigVerification>): BigVerification => ({
    bigNumber: number ?? '',
    verified: fields.status === 'registered',
    specialismIds: [],
    limitations: [],
    checkedAt: now,
    source,
    ...fields,
  })
  if (number === undefined) return result({ status: 'unknown' })

  const t = toRegisterDateTime(now)
  const holders = persons.filter((p) => p.registrations.some((r) => r.bigNumber === number))
  const registrations = holders.flatMap((p) => p.registrations.filter((r) => r.bigNumber === number))
  if (registrations.length === 0) return result({ status: 'unknown' })

  const started = registrations.filter((r) => r.startDate <= t)
  const current = started.filter((r) => r.endDate === null || r.endDate > t)
  const chosen: BigRegistration =
    current.find((r) => r.professionalGroupCode !== undefined && allowedProfessionCodes.has(r.professionalGroupCode)) ??
    current[0] ??
    registrations.find((r) => r.endDate !== null && r.endDate <= t) ??
    (registrations[0] as BigRegistration)

  const details: Partial<BigVerification> = {
    specialismIds: holders.flatMap((p) => p.specialisms.filter((s) => s.bigNumber === number).map((s) => s.typeOfSpecialismId)),
    limitations: holders.flatMap((p) =>
      p.limitations
        .filter((l) => l.bigNumber === number)
        .filter((l) => (l.startDate === null || l.startDate <= t) && (l.endDate === null || l.endDate > t))
        .map((l): BigVerificationLimitation => ({
          typeLimitationId: l.typeLimitationId,
          ...(l.description !== undefined ? { registerDescription: l.description } : {}),
          startDate: l.startDate,
          endDate: l.endDate,
          expirationEndDate: l.expirationEndDate,
        })),
    ),
  }
  const code = chosen.professionalGroupCode
  if (code !== undefined) {
    details.professionalGroupCode = code
    const name = professionName(code)
    if (name !== undefined) details.profession = name
  }

  if (current.length === 0) {
    const ended = registrations.some((r) => r.endDate !== null && r.endDate <= t)
    return result({ ...details, status: ended ? 'ended' : 'unknown' })
  }
  const blocked = holders.some((p) => p.judgments.some((j) => j.public && (j.endDate === null || j.endDate > t)))
  if (blocked) return result({ ...details, status: 'suspended' })
  if (code === undefined || !allowedProfessionCodes.has(code)) return result({ ...details, status: 'profession-not-allowed' })
  return result({ ...details, status: 'registered' })
}
