/**
 * FHIR R4 date/dateTime/instant values as the span of time they denote. Only strings that match the
 * exact R4 syntax (and a real calendar day) parse; anything else is `undefined`, so a parsed value's
 * `text` holds nothing but digits and separators and may appear in derived output.
 *
 * A partial value covers its whole span: `2026` is the year, `2026-11` the month, `2026-11-24` the
 * day. Values without a time have no zone in FHIR; they are read in UTC (documented in
 * docs/handelingsperspectief.md).
 */

export interface FhirTime {
  /** The value as written (it matched the R4 syntax). */
  text: string
  /** The first millisecond of the span (epoch ms). */
  low: number
  /** The last millisecond of the span (epoch ms). */
  high: number
}

const DATE_TIME =
  /^(\d{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01])(?:T([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d+)?(Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/

const DAY_MS = 86_400_000

/** Epoch ms of a UTC calendar time; years below 100 are taken literally (unlike Date.UTC). */
function utc(year: number, month0: number, day: number, hours = 0, minutes = 0, seconds = 0, ms = 0): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month0, day)
  date.setUTCHours(hours, minutes, seconds, ms)
  return date.getTime()
}

function daysInMonth(year: number, month1: number): number {
  return new Date(utc(year, month1, 1) - DAY_MS).getUTCDate()
}

/** Parses an R4 date, dateTime or instant; undefined for anything else. */
export function parseFhirTime(value: unknown): FhirTime | undefined {
  if (typeof value !== 'string') return undefined
  const m = DATE_TIME.exec(value)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac, tz] = m
  const year = Number(y)
  if (mo === undefined) return { text: value, low: utc(year, 0, 1), high: utc(year + 1, 0, 1) - 1 }
  const month = Number(mo)
  if (d === undefined) return { text: value, low: utc(year, month - 1, 1), high: utc(year, month, 1) - 1 }
  const day = Number(d)
  if (day > daysInMonth(year, month)) return undefined
  if (h === undefined || mi === undefined || s === undefined || tz === undefined) {
    const low = utc(year, month - 1, day)
    return { text: value, low, high: low + DAY_MS - 1 }
  }
  const ms = frac === undefined ? 0 : Number(frac.slice(1, 4).padEnd(3, '0'))
  let instant = utc(year, month - 1, day, Number(h), Number(mi), Number(s), ms)
  if (tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1
    const offsetMinutes = Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))
    instant -= sign * offsetMinutes * 60_000
  }
  return { text: value, low: instant, high: instant }
}
