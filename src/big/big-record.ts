/**
 * The simple JSON form of a `ListHcpApprox4` record, as in
 * shared/big-register/fake-data.example.json: one person with one registration. Used by the
 * file adapter (OVERDRACHT_BIG_REGISTER_FILE) and by the test double of the SOAP service.
 *
 * ```json
 * { "big": "19012345601", "name": "A.M. Voorbeeld", "prefix": "de", "birthSurname": "Voorbeeld",
 *   "gender": "V", "professionalGroupCode": "01", "startDate": "2009-07-01", "endDate": null,
 *   "specialisms": [15],
 *   "judgments": [{ "id": 812, "startDate": "2025-03-14T09:12:40", "endDate": null,
 *                   "description": "…", "public": true }],
 *   "limitations": [{ "typeId": 2, "startDate": "2024-05-01", "endDate": "2027-05-01",
 *                     "expirationEndDate": null, "description": "…" }] }
 * ```
 *
 * `endDate` null or absent (or `0001-01-01`, the SOAP sentinel) means no end date. A judgment
 * without `public` counts as public (the conservative reading). Unknown keys are errors, so a
 * misspelt `enddate` cannot silently make a registration current.
 */
import type { BigGender, BigPerson } from './big.types.js'
import { isNoEndDateSentinel, parseRegisterDateTime } from './register-time.js'

export interface BigRegisterRecordJudgment {
  id: number | string
  startDate: string
  endDate?: string | null
  description?: string
  public?: boolean
}

export interface BigRegisterRecordLimitation {
  typeId: number
  startDate?: string | null
  endDate?: string | null
  expirationEndDate?: string | null
  description?: string
}

export interface BigRegisterRecord {
  /** 11 digits, leading zeros included. */
  big: string
  /** The mailing name, e.g. `S.L. de Proef`. */
  name: string
  prefix?: string
  birthSurname?: string
  gender?: BigGender
  /** Two digits, e.g. `01`. */
  professionalGroupCode: string
  startDate: string
  endDate?: string | null
  specialisms?: number[]
  judgments?: BigRegisterRecordJudgment[]
  limitations?: BigRegisterRecordLimitation[]
}

export class BigRegisterFileError extends Error {
  override readonly name = 'BigRegisterFileError'
}

const RECORD_KEYS = new Set(['big', 'name', 'prefix', 'birthSurname', 'gender', 'professionalGroupCode', 'startDate', 'endDate', 'specialisms', 'judgments', 'limitations'])
const JUDGMENT_KEYS = new Set(['id', 'startDate', 'endDate', 'description', 'public'])
const LIMITATION_KEYS = new Set(['typeId', 'startDate', 'endDate', 'expirationEndDate', 'description'])

type Obj = Record<string, unknown>
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 40 ? `${s.slice(0, 37)}...` : s
}

/**
 * Validates parsed JSON as an array of records. Errors name the record by its index, e.g.
 * `BIG register file x.json: record [2].judgments[0].endDate: expected null or a date …`.
 * Values of name and description fields are never echoed.
 */
export function parseBigRegisterRecords(data: unknown, origin = 'BIG register records'): BigRegisterRecord[] {
  const fail = (where: string, message: string): never => {
    throw new BigRegisterFileError(`${origin}: ${where}: ${message}`)
  }
  if (!Array.isArray(data)) fail('top level', 'expected a JSON array of ListHcpApprox4 records')
  const records = data as unknown[]
  const seen = new Map<string, number>()

  const checkKeys = (o: Obj, allowed: ReadonlySet<string>, where: string) => {
    for (const k of Object.keys(o)) if (!allowed.has(k)) fail(where, `unknown field "${k}" (allowed: ${[...allowed].join(', ')})`)
  }
  const text = (o: Obj, key: string, where: string, required: boolean) => {
    const v = o[key]
    if (v === undefined && !required) return
    if (typeof v !== 'string' || v.trim() === '') fail(`${where}.${key}`, 'expected a non-empty string')
  }
  const date = (o: Obj, key: string, where: string, mode: 'required' | 'nullable') => {
    const v = o[key]
    if (mode === 'nullable' && (v === undefined || v === null)) return
    if (typeof v !== 'string' || (parseRegisterDateTime(v) === undefined && !(mode === 'nullable' && isNoEndDateSentinel(v)))) {
      fail(`${where}.${key}`, `expected ${mode === 'nullable' ? 'null or ' : ''}a date YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss, got ${show(v)}`)
    }
  }
  const integer = (v: unknown, where: string) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, `expected a whole number, got ${show(v)}`)
  }
  const list = (o: Obj, key: string, where: string): unknown[] => {
    const v = o[key]
    if (v === undefined) return []
    if (!Array.isArray(v)) fail(`${where}.${key}`, 'expected an array')
    return v as unknown[]
  }

  records.forEach((r, i) => {
    const at = `record [${i}]`
    if (!isObject(r)) return fail(at, 'expected an object')
    checkKeys(r, RECORD_KEYS, at)
    if (typeof r.big !== 'string' || !/^\d{11}$/.test(r.big)) fail(`${at}.big`, `expected an 11-digit string with leading zeros (e.g. "09011122201"), got ${show(r.big)}`)
    const big = r.big as string
    const first = seen.get(big)
    if (first !== undefined) fail(`${at}.big`, `duplicate BIG number, also in record [${first}]`)
    seen.set(big, i)
    text(r, 'name', at, true)
    text(r, 'prefix', at, false)
    text(r, 'birthSurname', at, false)
    if (r.gender !== undefined && r.gender !== 'M' && r.gender !== 'V' && r.gender !== 'O') fail(`${at}.gender`, `expected "M", "V" or "O", got ${show(r.gender)}`)
    if (typeof r.professionalGroupCode !== 'string' || !/^\d{2}$/.test(r.professionalGroupCode)) {
      fail(`${at}.professionalGroupCode`, `expected a two-digit string such as "01" or "30", got ${show(r.professionalGroupCode)}`)
    }
    date(r, 'startDate', at, 'required')
    date(r, 'endDate', at, 'nullable')
    list(r, 'specialisms', at).forEach((s, j) => integer(s, `${at}.specialisms[${j}]`))
    list(r, 'judgments', at).forEach((j, k) => {
      const where = `${at}.judgments[${k}]`
      if (!isObject(j)) return fail(where, 'expected an object')
      checkKeys(j, JUDGMENT_KEYS, where)
      if (!(typeof j.id === 'string' && /^\d+$/.test(j.id))) integer(j.id, `${where}.id`)
      date(j, 'startDate', where, 'required')
      date(j, 'endDate', where, 'nullable')
      text(j, 'description', where, false)
      if (j.public !== undefined && typeof j.public !== 'boolean') fail(`${where}.public`, `expected true or false, got ${show(j.public)}`)
    })
    list(r, 'limitations', at).forEach((l, k) => {
      const where = `${at}.limitations[${k}]`
      if (!isObject(l)) return fail(where, 'expected an object')
      checkKeys(l, LIMITATION_KEYS, where)
      integer(l.typeId, `${where}.typeId`)
      date(l, 'startDate', where, 'nullable')
      date(l, 'endDate', where, 'nullable')
      date(l, 'expirationEndDate', where, 'nullable')
      text(l, 'description', where, false)
    })
  })
  return records as BigRegisterRecord[]
}

/** A date field of a validated record; null for null, absent or the `0001-01-01` sentinel. */
export function recordOptionalDate(value: string | null | undefined): string | null {
  if (value === undefined || value === null || isNoEndDateSentinel(value)) return null
  return parseRegisterDateTime(value) ?? null
}

/** The parsed person for a validated record, as the SOAP adapter would return it. */
export function recordToPerson(r: BigRegisterRecord): BigPerson {
  const start = (v: string) => parseRegisterDateTime(v) as string
  return {
    mailingName: r.name,
    gender: r.gender,
    registrations: [{ bigNumber: r.big, professionalGroupCode: r.professionalGroupCode, startDate: start(r.startDate), endDate: recordOptionalDate(r.endDate) }],
    specialisms: (r.specialisms ?? []).map((id) => ({ bigNumber: r.big, typeOfSpecialismId: id })),
    judgments: (r.judgments ?? []).map((j) => ({
      id: String(j.id),
      bigNumber: r.big,
      startDate: start(j.startDate),
      endDate: recordOptionalDate(j.endDate),
      public: j.public ?? true,
      ...(j.description !== undefined ? { description: j.description } : {}),
    })),
    limitations: (r.limitations ?? []).map((l) => ({
      bigNumber: r.big,
      typeLimitationId: l.typeId,
      ...(l.description !== undefined ? { description: l.description } : {}),
      startDate: recordOptionalDate(l.startDate),
      endDate: recordOptionalDate(l.endDate),
      expirationEndDate: recordOptionalDate(l.expirationEndDate),
    })),
  }
}
