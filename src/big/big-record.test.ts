import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { BigRegisterFileError, parseBigRegisterRecords, recordToPerson } from './big-record.js'

const example: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/big-register/fake-data.example.json', import.meta.url), 'utf8'))
const valid = { big: '19012345601', name: 'A.M. Voorbeeld', professionalGroupCode: '01', startDate: '2009-07-01', endDate: null }

describe('parseBigRegisterRecords', () => {
  it('accepts the shared fake-data.example.json', () => {
    expect(parseBigRegisterRecords(example)).toHaveLength(6)
  })

  it.each([
    ['not an array', { records: [] }, /top level: expected a JSON array/],
    ['a record that is no object', [valid, 'x'], /record \[1\]: expected an object/],
    ['a BIG number as a JSON number', [{ ...valid, big: 19012345601 }], /record \[0\]\.big: expected an 11-digit string/],
    ['a 10-digit BIG number', [valid, { ...valid, big: '9011122201' }], /record \[1\]\.big: expected an 11-digit string/],
    ['a duplicate BIG number', [valid, { ...valid, name: 'X' }], /record \[1\]\.big: duplicate BIG number, also in record \[0\]/],
    ['a misspelt field', [valid, { ...valid, big: '19012345616' }, { ...valid, big: '19012345602', enddate: '2020-01-01' }], /record \[2\]: unknown field "enddate"/],
    ['a one-digit profession code', [{ ...valid, professionalGroupCode: '1' }], /record \[0\]\.professionalGroupCode: expected a two-digit string/],
    ['an impossible date', [{ ...valid, endDate: '2025-02-30' }], /record \[0\]\.endDate: expected null or a date/],
    ['a missing start date', [{ ...valid, startDate: undefined }], /record \[0\]\.startDate: expected a date/],
    ['a missing name', [{ ...valid, name: '' }], /record \[0\]\.name: expected a non-empty string/],
    ['a gender outside M/V/O', [{ ...valid, gender: 'F' }], /record \[0\]\.gender/],
    ['a specialism that is no number', [{ ...valid, specialisms: ['15'] }], /record \[0\]\.specialisms\[0\]: expected a whole number/],
    ['a judgment with a string public flag', [{ ...valid, judgments: [{ id: 1, startDate: '2025-01-01', public: 'yes' }] }], /record \[0\]\.judgments\[0\]\.public/],
    ['a limitation without type', [{ ...valid, limitations: [{ startDate: '2025-01-01' }] }], /record \[0\]\.limitations\[0\]\.typeId/],
  ])('refuses %s, naming where', (_name, data, message) => {
    expect(() => parseBigRegisterRecords(data, 'register.json')).toThrow(BigRegisterFileError)
    expect(() => parseBigRegisterRecords(data, 'register.json')).toThrow(message)
  })

  it('does not echo names or descriptions in its errors', () => {
    expect(() => parseBigRegisterRecords([{ ...valid, name: 42 }])).toThrow(/expected a non-empty string$/)
  })
})

describe('recordToPerson', () => {
  it('maps null end dates to null, dates to register time, and judgments to public by default', () => {
    const person = recordToPerson({ ...valid, judgments: [{ id: 7, startDate: '2025-03-14T09:12:40' }], limitations: [{ typeId: 2, startDate: '2024-05-01' }] })
    expect(person.registrations).toEqual([{ bigNumber: '19012345601', professionalGroupCode: '01', startDate: '2009-07-01T00:00:00', endDate: null }])
    expect(person.judgments).toEqual([{ id: '7', bigNumber: '19012345601', startDate: '2025-03-14T09:12:40', endDate: null, public: true }])
    expect(person.limitations).toEqual([{ bigNumber: '19012345601', typeLimitationId: 2, startDate: '2024-05-01T00:00:00', endDate: null, expirationEndDate: null }])
  })

  it('reads the SOAP sentinel 0001-01-01 as no end date', () => {
    expect(recordToPerson({ ...valid, endDate: '0001-01-01' }).registrations[0]?.endDate).toBeNull()
  })
})
