export const ORG_TYPES = ['gza', 'dji-medical', 'medical-escort', 'dtv', 'dvo', 'kmar', 'coa'] as const
export type OrgType = (typeof ORG_TYPES)[number]

export const ROLES = ['caregiver', 'regievoerder', 'escort', 'casemanager', 'privacy-officer'] as const
export type Role = (typeof ROLES)[number]

/**
 * The authenticated caller, from the identity provider's token. The `role` claim is a claim:
 * whether a caregiver really is one is decided by the policy with the BIG register's answer.
 */
export interface Principal {
  sub: string
  name: string | undefined
  org: string
  orgType: OrgType
  role: Role
  big: string | undefined
  /** The identity provider that vouched for the caller (`iss`). */
  issuer: string
  /** The network access point of the request (NEN 7513). */
  accessPoint: string
}
