import { DEV_CAREGIVERS } from '../big/file-register.js'
import { DEV_DEPARTURE_AUTHORITY } from '../config.js'
import type { CallerClaims } from '../http/dev-identity.js'

/**
 * The fictional people of development mode, one per kind of user, with the organisations of the
 * README (URA 90000001-90000007) and the BIG numbers of the development register. The development
 * OpenID provider signs them in with these claims, as an organisation's provider would.
 */
export interface DevPerson extends CallerClaims {
  /** What the picker says about the person, in Dutch and English. */
  describe: { nl: string; en: string }
}

export const DEV_PEOPLE: readonly DevPerson[] = Object.freeze([
  { sub: 'dev-gza-arts', name: 'A. Fictief-Gza', org: '90000001', org_type: 'gza', role: 'caregiver', big: DEV_CAREGIVERS.gzaArts, describe: { nl: 'Arts bij de GZA', en: 'Doctor at the GZA' } },
  { sub: 'dev-dji-verpleegkundige', name: 'B. Fictief-Dji', org: '90000002', org_type: 'dji-medical', role: 'caregiver', big: DEV_CAREGIVERS.djiVerpleegkundige, describe: { nl: 'Verpleegkundige bij de medische dienst van DJI', en: 'Nurse at the DJI medical service' } },
  { sub: 'dev-escort-verpleegkundige', name: 'C. Fictief-Escorte', org: '90000003', org_type: 'medical-escort', role: 'caregiver', big: DEV_CAREGIVERS.escortVerpleegkundige, describe: { nl: 'Escorteverpleegkundige', en: 'Escort nurse' } },
  { sub: 'dev-regievoerder', name: 'R. Regie', org: DEV_DEPARTURE_AUTHORITY, org_type: 'dtv', role: 'regievoerder', describe: { nl: 'Regievoerder bij DT&V', en: 'Regievoerder at DT&V' } },
  { sub: 'dev-dvo-escort', name: 'V. Vervoer', org: '90000005', org_type: 'dvo', role: 'escort', describe: { nl: 'Transportbegeleider bij DV&O', en: 'Transport escort at DV&O' } },
  { sub: 'dev-kmar-escort', name: 'K. Marechaussee', org: '90000006', org_type: 'kmar', role: 'escort', describe: { nl: 'Begeleider bij de KMar', en: 'Escort at the KMar' } },
  { sub: 'dev-coa-casemanager', name: 'M. Casus', org: '90000007', org_type: 'coa', role: 'casemanager', describe: { nl: 'Casemanager bij het COA', en: 'Case manager at the COA' } },
  { sub: 'dev-gza-privacy', name: 'P. Privacy', org: '90000001', org_type: 'gza', role: 'privacy-officer', describe: { nl: 'Privacyfunctionaris bij de GZA', en: 'Privacy officer at the GZA' } },
  { sub: 'dev-gza-geschorst', name: 'D. Fictief-Geschorst', org: '90000001', org_type: 'gza', role: 'caregiver', big: DEV_CAREGIVERS.suspendedArts, describe: { nl: 'Arts met een geschorste BIG-registratie', en: 'Doctor with a suspended BIG registration' } },
])

export const findDevPerson = (sub: string) => DEV_PEOPLE.find((p) => p.sub === sub)
