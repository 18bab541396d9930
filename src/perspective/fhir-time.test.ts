import { describe, expect, it } from 'vitest'
import { parseFhirTime } from './fhir-time.js'

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())
const span = (value: unknown) => {
  const t = parseFhirTime(value)
  return t && [t.text, iso(t.low), iso(t.high)]
}

describe('parseFhirTime', () => {
  it.each([
    ['2026', '2026-01-01T00:00:00.000Z', '2026-12-31T23:59:59.999Z'],
    ['2026-02', '2026-02-01T00:00:00.000Z', '2026-02-28T23:59:59.999Z'],
    ['2024-02', '2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
    ['2026-12', '2026-12-01T00:00:00.000Z', '2026-12-31T23:59:59.999Z'],
    ['2026-11-24', '2026-11-24T00:00:00.000Z', '2026-11-24T23:59:59.999Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
  ])('a partial value %s covers %s .. %s (UTC)', (value, low, high) => {
    expect(span(value)).toEqual([value, low, high])
  })

  it.each([
    ['2026-11-24T10:00:00+01:00', '2026-11-24T09:00:00.000Z'],
    ['2026-11-24T10:00:00-05:30', '2026-11-24T15:30:00.000Z'],
    ['2026-11-24T10:00:00Z', '2026-11-24T10:00:00.000Z'],
    ['2026-11-24T10:00:00.123456Z', '2026-11-24T10:00:00.123Z'],
    ['2026-11-24T10:00:00.5+14:00', '2026-11-23T20:00:00.500Z'],
    ['2026-12-31T23:59:60Z', '2027-01-01T00:00:00.000Z'],
  ])('a full dateTime %s is the instant %s', (value, instant) => {
    expect(span(value)).toEqual([value, instant, instant])
  })

  it('takes years below 100 literally', () => {
    expect(iso(parseFhirTime('0050-01-01')?.low)).toBe('0050-01-01T00:00:00.000Z')
  })

  it.each([
    ['an impossible day', '2026-02-29'],
    ['day 31 of a 30-day month', '2026-11-31'],
    ['a time without zone', '2026-11-24T10:00:00'],
    ['a time without seconds', '2026-11-24T10:00Z'],
    ['a Dutch date', '24-11-2026'],
    ['a zone beyond +14:00', '2026-11-24T10:00:00+14:30'],
    ['month 13', '2026-13'],
    ['surrounding space', ' 2026-11-24'],
    ['free text', 'last Tuesday'],
    ['the empty string', ''],
    ['a number', 2026],
    ['null', null],
  ])('rejects %s', (_name, value) => {
    expect(parseFhirTime(value)).toBeUndefined()
  })
})
