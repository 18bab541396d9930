/**
 * A FHIR date or dateTime (year, year-month, date, or date and time with zone) as an instant:
 * `start` is the first moment it covers, `end` the first moment after it (so "2026-12" ends at
 * 2027-01-01T00:00Z and a period `end` of "2026-12-31" includes that whole day, as FHIR means it).
 * A leap second (:60) counts as the last millisecond of its minute. Undefined when it is not one.
 */
export function fhirInstant(value: string, edge: 'start' | 'end'): Date | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(value.trim())
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const year = Number(y)
  const month = mo === undefined ? 1 : Number(mo)
  const day = d === undefined ? 1 : Number(d)
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined
  if (h === undefined) {
    // A date without time: a calendar unit, taken in UTC.
    const begin = Date.UTC(year, month - 1, day)
    if (edge === 'start') return new Date(begin)
    const next = d !== undefined ? Date.UTC(year, month - 1, day + 1) : mo !== undefined ? Date.UTC(year, month, 1) : Date.UTC(year + 1, 0, 1)
    return new Date(next)
  }
  if (zone === undefined) return undefined
  const hours = Number(h)
  const minutes = Number(mi)
  const seconds = s === undefined ? 0 : Number(s)
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined
  const millis = seconds === 60 ? 999 : frac ? Math.floor(Number(`0${frac}`) * 1000) : 0
  const offset = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
  const at = Date.UTC(year, month - 1, day, hours, minutes, Math.min(seconds, 59), millis) - offset * 60_000
  return Number.isNaN(at) ? undefined : new Date(at)
}
