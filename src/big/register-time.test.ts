import { describe, expect, it } from 'vitest'
import { isNoEndDateSentinel, parseRegisterDateTime, toRegisterDateTime } from './register-time.js'

describe('toRegisterDateTime', () => {
  it.each([
    ['2026-11-24T09:00:00Z', '2026-11-24T10:00:00'],
    ['2026-11-24T23:30:00Z', '2026-11-25T00:30:00'],
    ['2026-07-01T22:00:00Z', '2026-07-02T00:00:00'],
    ['2026-03-29T01:00:00Z', '2026-03-29T03:00:00'],
  ])('%s is %s in Amsterdam', (instant, local) => {
    expect(toRegisterDateTime(new Date(instant))).toBe(local)
  })
})

describe('parseRegisterDateTime', () => {
  it.each([
    ['2009-07-01', '2009-07-01T00:00:00'],
    ['2009-07-01T00:00:00', '2009-07-01T00:00:00'],
    [' 2025-03-14T09:12:40 ', '2025-03-14T09:12:40'],
    ['2025-03-14T09:12:40.1234567', '2025-03-14T09:12:40'],
    ['2025-03-14T08:12:40Z', '2025-03-14T09:12:40'],
    ['2025-07-14T09:12:40+02:00', '2025-07-14T09:12:40'],
    ['0001-01-01T00:00:00', '0001-01-01T00:00:00'],
    ['2024-02-29', '2024-02-29T00:00:00'],
    ['2025-02-29', undefined],
    ['2025-13-01', undefined],
    ['2025-01-01T24:00:00', undefined],
    ['01-01-2025', undefined],
    ['', undefined],
  ])('%j → %j', (input, expected) => {
    expect(parseRegisterDateTime(input)).toBe(expected)
  })
})

describe('isNoEndDateSentinel', () => {
  it('is true for 0001-01-01 only, not for 0002-01-01', () => {
    expect(isNoEndDateSentinel('0001-01-01T00:00:00')).toBe(true)
    expect(isNoEndDateSentinel('0001-01-01')).toBe(true)
    expect(isNoEndDateSentinel('0002-01-01T00:00:00')).toBe(false)
    expect(isNoEndDateSentinel('2021-09-15T00:00:00')).toBe(false)
  })
})
