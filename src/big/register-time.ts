/**
 * Register time (pure). The BIG register sends `xs:dateTime` values without a zone
 * (README §3); they are Dutch wall-clock times, so comparisons happen in Europe/Amsterdam
 * wall-clock time, as fixed-width `YYYY-MM-DDTHH:mm:ss` strings.
 */
import type { RegisterDateTime } from './big.types.js'

const amsterdam = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Amsterdam',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})

/** The last second formatted: every caregiver's request asks for "now", and Intl formatting is costly. */
let last: { second: number; value: RegisterDateTime } | undefined

/** An instant as register wall-clock time (Europe/Amsterdam), `YYYY-MM-DDTHH:mm:ss`. */
export function toRegisterDateTime(instant: Date): RegisterDateTime {
  const second = Math.floor(instant.getTime() / 1000)
  if (last !== undefined && last.second === second) return last.value
  const parts: Record<string, string> = {}
  for (const p of amsterdam.formatToParts(instant)) parts[p.type] = p.value
  const year = (parts.year ?? '').padStart(4, '0')
  const value = `${year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`
  if (!Number.isNaN(second)) last = { second, value }
  return value
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?)?$/

/**
 * Reads `YYYY-MM-DD`, `YYYY-MM-DDTHH:mm:ss` (fraction dropped) or the same with a zone
 * (`Z`, `+01:00`; converted to Amsterdam wall-clock time). Undefined for anything else,
 * including impossible dates such as `2025-02-30`.
 */
export function parseRegisterDateTime(value: string): RegisterDateTime | undefined {
  const m = DATE_TIME.exec(value.trim())
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00', , zone] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined
  const local = `${y}-${mo}-${d}T${h}:${mi}:${s}`
  if (zone === undefined) return local
  const instant = new Date(`${local}${zone}`)
  if (Number.isNaN(instant.getTime()) || year < 1000) return undefined
  return toRegisterDateTime(instant)
}

/**
 * `0001-01-01` (.NET `DateTime.MinValue`) is how the service says "no end date" in a
 * non-nillable `ArticleRegistrationEndDate` (README §3). Any other date, `0002-01-01` included,
 * is a real end date.
 */
export function isNoEndDateSentinel(value: string): boolean {
  return value.trim().startsWith('0001-01-01')
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}
