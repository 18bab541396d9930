import { describe, expect, it } from 'vitest'
import type { BigJudgment, BigLimitation, BigPerson, BigStatus } from './big.types.js'
import { DEFAULT_ALLOWED_PROFESSIONS, deriveBigStatus, normalizeBigNumber, parseAllowedProfessions, professionName } from './big-status.js'

// 2026-11-24T09:00:00Z is 10:00 in Amsterdam (CET, UTC+1).
const NOW = new Date('2026-11-24T09:00:00Z')
const BIG = '19012345601'

function person(
  reg: { bigNumber?: string; code?: string | undefined; start?: string; end?: string | null } = {},
  extra: { judgments?: Partial<BigJudgment>[]; limitations?: Partial<BigLimitation>[]; specialisms?: number[] } = {},
): BigPerson {
  const bigNumber = reg.bigNumber ?? BIG
  return {
    mailingName: 'A.M. Voorbeeld',
    gender: 'V',
    registrations: [
      {
        bigNumber,
        professionalGroupCode: 'code' in reg ? reg.code : '01',
        startDate: reg.start ?? '2009-07-01T00:00:00',
        endDate: reg.end === undefined ? null : reg.end,
      },
    ],
    specialisms: (extra.specialisms ?? []).map((id) => ({ bigNumber, typeOfSpecialismId: id })),
    judgments: (extra.judgments ?? []).map((j, i) => ({
      id: String(800 + i),
      bigNumber,
      startDate: '2025-03-14T09:12:40',
      endDate: null,
      public: true,
      ...j,
    })),
    limitations: (extra.limitations ?? []).map((l) => ({
      bigNumber,
      typeLimitationId: 2,
      startDate: '2024-05-01T00:00:00',
      endDate: '2027-05-01T00:00:00',
      expirationEndDate: null,
      ...l,
    })),
  }
}

const derive = (persons: BigPerson[], now = NOW, number = BIG, allowed = DEFAULT_ALLOWED_PROFESSIONS) => deriveBigStatus(number, persons, allowed, now, 'soap')

describe('deriveBigStatus decision table', () => {
  const table: [string, BigPerson[], BigStatus][] = [
    ['registered arts, no end date', [person()], 'registered'],
    ['end date yesterday', [person({ end: '2026-11-23T00:00:00' })], 'ended'],
    ['end date today (not in the future)', [person({ end: '2026-11-24T00:00:00' })], 'ended'],
    ['end date tomorrow', [person({ end: '2026-11-25T00:00:00' })], 'registered'],
    ['end date 0002-01-01 (geschrapt, per a zeep script)', [person({ end: '0002-01-01T00:00:00' })], 'ended'],
    ['start date tomorrow', [person({ start: '2026-11-25T00:00:00' })], 'unknown'],
    ['start date today', [person({ start: '2026-11-24T00:00:00' })], 'registered'],
    ['public judgment with nil end date', [person({}, { judgments: [{}] })], 'suspended'],
    ['public judgment ending in the future', [person({}, { judgments: [{ endDate: '2027-01-01T00:00:00' }] })], 'suspended'],
    ['public judgment ended in the past', [person({}, { judgments: [{ endDate: '2025-06-01T00:00:00' }] })], 'registered'],
    ['non-public judgment with nil end date', [person({}, { judgments: [{ public: false }] })], 'registered'],
    ['public judgment on another registration of the same person', [
      { ...person(), judgments: [{ id: '1', bigNumber: '19012345616', startDate: '2025-01-01T00:00:00', endDate: null, public: true }] },
    ], 'suspended'],
    ['ended and suspended: ended wins', [person({ end: '2020-01-01T00:00:00' }, { judgments: [{}] })], 'ended'],
    ['tandarts (02)', [person({ code: '02' })], 'profession-not-allowed'],
    ['fysiotherapeut (04)', [person({ code: '04' })], 'profession-not-allowed'],
    ['verzorgende IG (86, art. 34)', [person({ code: '86' })], 'profession-not-allowed'],
    ['no profession code', [person({ code: undefined })], 'profession-not-allowed'],
    ['verpleegkundige (30)', [person({ code: '30' })], 'registered'],
    ['physician assistant (81)', [person({ code: '81' })], 'registered'],
    ['apotheker (17)', [person({ code: '17' })], 'registered'],
    ['gezondheidszorgpsycholoog (25)', [person({ code: '25' })], 'registered'],
    ['psychotherapeut (16)', [person({ code: '16' })], 'registered'],
    ['suspended tandarts: suspended before profession', [person({ code: '02' }, { judgments: [{}] })], 'suspended'],
    ['no person returned', [], 'unknown'],
    ['person returned with another number only', [person({ bigNumber: '19012345699' })], 'unknown'],
  ]
  it.each(table)('%s → %s', (_name, persons, status) => {
    const v = derive(persons)
    expect(v.status).toBe(status)
    expect(v.verified).toBe(status === 'registered')
  })
})

describe('deriveBigStatus details', () => {
  it('restores the leading zero of a 10-digit number and matches the padded registration', () => {
    const v = derive([person({ bigNumber: '09011122201' })], NOW, '9011122201')
    expect(v).toMatchObject({ bigNumber: '09011122201', status: 'registered', verified: true })
  })

  it('compares in Amsterdam time: an end date of the 25th has passed at 2026-11-24T23:30Z (00:30 CET)', () => {
    const p = [person({ end: '2026-11-25T00:00:00' })]
    expect(derive(p, new Date('2026-11-24T22:59:59Z')).status).toBe('registered')
    expect(derive(p, new Date('2026-11-24T23:00:00Z')).status).toBe('ended')
  })

  it('compares in Amsterdam summer time (CEST, UTC+2)', () => {
    const p = [person({ end: '2026-07-02T00:00:00' })]
    expect(derive(p, new Date('2026-07-01T21:59:59Z')).status).toBe('registered')
    expect(derive(p, new Date('2026-07-01T22:00:00Z')).status).toBe('ended')
  })

  it('reports profession code and Dutch name, source and the time of the check', () => {
    const v = derive([person({ code: '30' }, { specialisms: [76] })])
    expect(v).toEqual({
      bigNumber: BIG,
      status: 'registered',
      verified: true,
      professionalGroupCode: '30',
      profession: 'verpleegkundige',
      specialismIds: [76],
      limitations: [],
      checkedAt: NOW,
      source: 'soap',
    })
  })

  it('reports profession-not-allowed with the profession that was refused', () => {
    expect(derive([person({ code: '02' })])).toMatchObject({ status: 'profession-not-allowed', verified: false, professionalGroupCode: '02', profession: 'tandarts' })
  })

  it('allows a profession that the configured set contains', () => {
    expect(derive([person({ code: '02' })], NOW, BIG, new Set(['02'])).status).toBe('registered')
    expect(derive([person({ code: '01' })], NOW, BIG, new Set(['02'])).status).toBe('profession-not-allowed')
  })

  it('reports current limitations with the register text marked as such, and leaves out past and future ones', () => {
    const v = derive([
      person({}, {
        limitations: [
          { typeLimitationId: 2, description: 'Geclausuleerd voor bepaalde tijd.' },
          { typeLimitationId: 3, startDate: '2020-01-01T00:00:00', endDate: '2021-01-01T00:00:00' },
          { typeLimitationId: 4, startDate: '2027-01-01T00:00:00', endDate: null },
          { typeLimitationId: 4, startDate: null, endDate: null, bigNumber: '19012345616' },
        ],
      }),
    ])
    expect(v.status).toBe('registered')
    expect(v.limitations).toEqual([
      { typeLimitationId: 2, registerDescription: 'Geclausuleerd voor bepaalde tijd.', startDate: '2024-05-01T00:00:00', endDate: '2027-05-01T00:00:00', expirationEndDate: null },
    ])
  })

  it('puts no personal name into the verification', () => {
    const v = derive([person({}, { judgments: [{}] })])
    expect(JSON.stringify(v)).not.toContain('Voorbeeld')
  })

  it('answers unknown with an empty number for input that is no BIG number', () => {
    expect(derive([person()], NOW, 'BIG-190123')).toMatchObject({ bigNumber: '', status: 'unknown', verified: false })
  })

  it('uses a current registration in an allowed profession when the same number appears twice', () => {
    const twice = person()
    twice.registrations.unshift({ bigNumber: BIG, professionalGroupCode: '01', startDate: '1990-01-01T00:00:00', endDate: '2000-01-01T00:00:00' })
    expect(derive([twice]).status).toBe('registered')
  })
})

describe('normalizeBigNumber', () => {
  it.each([
    ['19012345601', '19012345601'],
    ['9011122201', '09011122201'],
    [9011122201, '09011122201'],
    [' 19012345601 ', '19012345601'],
    ['1', '00000000001'],
    ['190123456012', undefined],
    ['1901234560a', undefined],
    ['1901 2345601', undefined],
    ['', undefined],
    ['-9011122201', undefined],
    ['+9011122201', undefined],
    ['9.011122201e9', undefined],
    [1.5, undefined],
    [-1, undefined],
    [190123456012, undefined],
  ] as [string | number, string | undefined][])('%j → %j', (input, expected) => {
    expect(normalizeBigNumber(input)).toBe(expected)
  })
})

describe('professions', () => {
  it('default set is arts, verpleegkundige (incl. verpleegkundig specialist), PA, apotheker, GZ-psycholoog, psychotherapeut', () => {
    expect([...DEFAULT_ALLOWED_PROFESSIONS].sort()).toEqual(['01', '16', '17', '25', '30', '81'])
  })
  it('names codes in Dutch and returns undefined for unknown codes', () => {
    expect(professionName('01')).toBe('arts')
    expect(professionName('81')).toBe('physician assistant')
    expect(professionName('99')).toBeUndefined()
    expect(professionName('toString')).toBeUndefined()
  })
  it('parses a configured list and refuses anything but two-digit codes', () => {
    expect([...parseAllowedProfessions(' 01, 30 ,81')]).toEqual(['01', '30', '81'])
    expect(() => parseAllowedProfessions('01,3')).toThrow(/two digits/)
    expect(() => parseAllowedProfessions('')).toThrow(/empty/)
  })
})
