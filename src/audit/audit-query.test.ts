import { describe, expect, it } from 'vitest'
import { amsterdamMidnight, parseDateParams } from './audit-query.service.js'

describe('date search in Dutch days', () => {
  it('a bare date in winter starts at 23:00 UTC the day before', () => {
    expect(amsterdamMidnight('2026-11-01').toISOString()).toBe('2026-10-31T23:00:00.000Z')
  })
  it('a bare date in summer starts at 22:00 UTC the day before', () => {
    expect(amsterdamMidnight('2026-07-01').toISOString()).toBe('2026-06-30T22:00:00.000Z')
  })
  it('the day of the clock change to summer time is 23 hours long', () => {
    const p = parseDateParams(['2026-03-29'])
    expect(p.to!.getTime() - p.from!.getTime()).toBe(23 * 3600_000)
  })
  it('ge and lt bound a month', () => {
    const p = parseDateParams(['ge2026-11-01', 'lt2026-12-01'])
    expect([p.from!.toISOString(), p.to!.toISOString()]).toEqual(['2026-10-31T23:00:00.000Z', '2026-11-30T23:00:00.000Z'])
  })
  it('le includes the whole day, gt starts the day after', () => {
    expect(parseDateParams(['le2026-11-24']).to!.toISOString()).toBe('2026-11-24T23:00:00.000Z')
    expect(parseDateParams(['gt2026-11-24']).from!.toISOString()).toBe('2026-11-24T23:00:00.000Z')
  })
  it('a date-time is taken as written', () => {
    expect(parseDateParams(['ge2026-11-24T10:00:00Z']).from!.toISOString()).toBe('2026-11-24T10:00:00.000Z')
  })
  it('anything else is refused with 400', () => {
    expect(() => parseDateParams(['yesterday'])).toThrow(/FHIR date/)
  })
})
