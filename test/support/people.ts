import type { BigRegisterRecord } from '../../src/big/big-record.js'

/** Fictional callers of the tests, with BIG records to match. Numbers are invented. */
export const URA = {
  gza: '90000001',
  dji: '90000002',
  escort: '90000003',
  dtv: '90000004',
  dvo: '90000005',
  kmar: '90000006',
  coa: '90000007',
  otherGza: '90000008',
}

export const BIG = {
  gzaArts: '91000000101',
  djiNurse: '91000000230',
  escortNurse: '01000000330',
  otherGzaArts: '91000000701',
  ended: '91000000430',
  suspended: '91000000501',
  tandarts: '91000000602',
  unknown: '91999999901',
}

export const CALLERS = {
  gzaDoctor: { sub: 'gza-doctor-1', name: 'Test GZA arts', org: URA.gza, org_type: 'gza', role: 'caregiver', big: BIG.gzaArts },
  djiNurse: { sub: 'dji-nurse-1', name: 'Test DJI nurse', org: URA.dji, org_type: 'dji-medical', role: 'caregiver', big: BIG.djiNurse },
  escortNurse: { sub: 'escort-nurse-1', name: 'Test escort nurse', org: URA.escort, org_type: 'medical-escort', role: 'caregiver', big: BIG.escortNurse },
  otherGzaDoctor: { sub: 'gza-doctor-2', org: URA.otherGza, org_type: 'gza', role: 'caregiver', big: BIG.otherGzaArts },
  endedNurse: { sub: 'ended-1', org: URA.escort, org_type: 'medical-escort', role: 'caregiver', big: BIG.ended },
  suspendedDoctor: { sub: 'suspended-1', org: URA.gza, org_type: 'gza', role: 'caregiver', big: BIG.suspended },
  tandarts: { sub: 'tandarts-1', org: URA.gza, org_type: 'gza', role: 'caregiver', big: BIG.tandarts },
  unknownBig: { sub: 'unknown-1', org: URA.escort, org_type: 'medical-escort', role: 'caregiver', big: BIG.unknown },
  regievoerder: { sub: 'dtv-1', org: URA.dtv, org_type: 'dtv', role: 'regievoerder' },
  dvoEscort: { sub: 'dvo-1', org: URA.dvo, org_type: 'dvo', role: 'escort' },
  kmarEscort: { sub: 'kmar-1', org: URA.kmar, org_type: 'kmar', role: 'escort' },
  coaCaseManager: { sub: 'coa-1', org: URA.coa, org_type: 'coa', role: 'casemanager' },
  privacyOfficer: { sub: 'po-1', org: URA.gza, org_type: 'gza', role: 'privacy-officer' },
  djiPrivacyOfficer: { sub: 'po-dji-1', org: URA.dji, org_type: 'dji-medical', role: 'privacy-officer' },
  dtvPrivacyOfficer: { sub: 'po-dtv-1', org: URA.dtv, org_type: 'dtv', role: 'privacy-officer' },
} as const

export type CallerName = keyof typeof CALLERS

export const BIG_RECORDS: BigRegisterRecord[] = [
  { big: BIG.gzaArts, name: 'T. Arts', gender: 'V', professionalGroupCode: '01', startDate: '2010-01-01', endDate: null },
  { big: BIG.djiNurse, name: 'T. Verpleegkundige', gender: 'M', professionalGroupCode: '30', startDate: '2012-01-01', endDate: null },
  { big: BIG.escortNurse, name: 'T. Escorte', gender: 'V', professionalGroupCode: '30', startDate: '2014-01-01', endDate: null },
  { big: BIG.otherGzaArts, name: 'T. Andere-Arts', gender: 'M', professionalGroupCode: '01', startDate: '2015-01-01', endDate: null },
  { big: BIG.ended, name: 'T. Doorgehaald', gender: 'V', professionalGroupCode: '30', startDate: '2005-01-01', endDate: '2021-09-15' },
  {
    big: BIG.suspended,
    name: 'T. Geschorst',
    gender: 'M',
    professionalGroupCode: '01',
    startDate: '2001-01-01',
    endDate: null,
    judgments: [{ id: 1, startDate: '2025-03-14T09:12:40', endDate: null, description: 'Schorsing (fictief).' }],
  },
  { big: BIG.tandarts, name: 'T. Tandarts', gender: 'V', professionalGroupCode: '02', startDate: '2016-01-01', endDate: null },
]
