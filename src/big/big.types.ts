/**
 * Types of the BIG register adapters.
 *
 * `BigPerson` mirrors one `ListHcpApprox4` item of the CIBG PublicV4 web service
 * (shared/big-register/README.md §3), already parsed: BIG numbers as 11-character strings,
 * the `0001-01-01` "no end date" sentinel as `null`, nil values as `null`.
 *
 * `BigVerification` is what the rest of the service sees: the status derived for one BIG
 * number at one moment. It goes into decision records, so it carries no personal names.
 */

/**
 * A date-time as the register states it: `YYYY-MM-DDTHH:mm:ss`, no zone, Europe/Amsterdam
 * wall-clock time (the register sends `xs:dateTime` without a zone; registration dates are at
 * midnight). Fixed width, so two values compare correctly as strings.
 */
export type RegisterDateTime = string

export type BigGender = 'M' | 'V' | 'O'

export interface BigRegistration {
  /** 11 digits, left-padded (the service sends a decimal that loses leading zeros). */
  bigNumber: string
  /** Two digits, e.g. `01` arts, `30` verpleegkundige. Undefined if the register left it out. */
  professionalGroupCode: string | undefined
  startDate: RegisterDateTime
  /** `null`: no end date (`0001-01-01T00:00:00` on the wire). `0002-01-01` stays a date. */
  endDate: RegisterDateTime | null
}

export interface BigSpecialism {
  /** The registration the specialism belongs to (11 digits). */
  bigNumber: string
  /** `TypeOfSpecialismId`, e.g. 15 huisarts, 76 verpleegkundig specialist AGZ. */
  typeOfSpecialismId: number
}

export interface BigJudgment {
  /** `JudgmentProvisionExtApp/Id` as a decimal string. */
  id: string
  /** `ArticleNumber`: the registration the measure is about (11 digits). */
  bigNumber: string
  startDate: RegisterDateTime
  /** `null` when nil: an ongoing measure (or, per irma, possibly an ended one; README §5). */
  endDate: RegisterDateTime | null
  public: boolean
  /** `PublicDescription`: free text from the register. */
  description?: string
}

export interface BigLimitation {
  /** `ArticleRegistrationNumber` (11 digits). */
  bigNumber: string
  /** 1 ongeclausuleerd, 2 geclausuleerd voor bepaalde tijd, 3 … voor waarneming, 4 … voor onbepaalde tijd, 5–6 conversie. */
  typeLimitationId: number
  /** `Description`: free text from the register. */
  description?: string
  startDate: RegisterDateTime | null
  endDate: RegisterDateTime | null
  expirationEndDate: RegisterDateTime | null
}

/** One person (`ListHcpApprox4`) as the register returns it. Personal data: never log it. */
export interface BigPerson {
  mailingName: string | undefined
  gender: string | undefined
  registrations: BigRegistration[]
  specialisms: BigSpecialism[]
  judgments: BigJudgment[]
  limitations: BigLimitation[]
}

export type BigStatus = 'registered' | 'ended' | 'suspended' | 'profession-not-allowed' | 'unknown'

/** A limitation current at the time of the check, as reported in a verification. */
export interface BigVerificationLimitation {
  typeLimitationId: number
  /**
   * Free text copied verbatim from the BIG register (`LimitationExtApp/Description`). It is
   * public register text about this caregiver's competence; show it, but do not parse it.
   */
  registerDescription?: string
  startDate: RegisterDateTime | null
  endDate: RegisterDateTime | null
  expirationEndDate: RegisterDateTime | null
}

/**
 * The BIG status of one number at one moment. No names: safe for decision and audit records.
 *
 * - `registered`: a current registration in an allowed profession and no blocking judgment;
 *   the only status with `verified: true`.
 * - `ended`: the registration's end date has passed (doorgehaald, lapsed, `0002-01-01`).
 * - `suspended`: a public judgment provision with a nil or future end date.
 * - `profession-not-allowed`: current registration, but its profession may not receive dossiers.
 * - `unknown`: the register holds no such registration (or it has not started yet), or the
 *   number is not a valid BIG number.
 */
export interface BigVerification {
  /** 11 digits; empty string if the input was not a valid BIG number. */
  bigNumber: string
  status: BigStatus
  /** True only for `registered`. */
  verified: boolean
  professionalGroupCode?: string
  /** Dutch name of the profession, e.g. `arts`. */
  profession?: string
  /** `TypeOfSpecialismId`s on this registration (76 = verpleegkundig specialist AGZ, §4). */
  specialismIds: number[]
  /** Limitations on this registration that are current at the time of the check. */
  limitations: BigVerificationLimitation[]
  /** When the register was consulted (for a cached answer: when it was fetched). */
  checkedAt: Date
  source: 'soap' | 'file'
}
