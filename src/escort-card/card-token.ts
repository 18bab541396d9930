import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { ACTION_CODES, findValue, isActionCode, isValuedActionCode, VOCABULARY } from '../perspective/vocabulary.js'

/**
 * The escort card's token: a compact JWS (ES256, the service's published key) that a gate or an
 * airport can check without a network. It holds the handelingsperspectief codes the holder's role
 * may see, the planned departure, an expiry shortly after it, issuer, audience and a pseudonymous
 * reference: never a V-nummer, BSN, name, diagnosis or medication.
 */
export const CARD_TYP = 'escort-card+jwt'
export const CARD_AUDIENCE = 'urn:overdracht:escort-card'

/** One code on the card: `code`, `code=value` or `code=value@until` (short, for a small QR code). */
export type CardCode = string

export interface CardClaims extends JWTPayload {
  /** The departure task (a random id, not a person). */
  task: string
  /** The role whose column of the vocabulary the codes come from. */
  role: string
  /** The planned departure, NumericDate. */
  dep: number
  codes: CardCode[]
  /** Whether only safety-critical codes were disclosable (no consent for the perspective). */
  sco?: boolean
}

export interface CodeInWords {
  code: string
  nl: string
  en: string
}

/** The codes in words, Dutch and English, from the closed vocabulary only. Unknown codes are left out. */
export function codesInWords(codes: readonly CardCode[]): CodeInWords[] {
  const out: CodeInWords[] = []
  for (const item of codes) {
    const [code, rest] = item.split('=', 2) as [string, string | undefined]
    if (!isActionCode(code)) continue
    const def = VOCABULARY[code]
    let nl = def.displayNl
    let en = def.display
    if (rest !== undefined && isValuedActionCode(code)) {
      const [valueCode, until] = rest.split('@', 2) as [string, string | undefined]
      const value = findValue(code, valueCode)
      if (!value) continue
      nl += `: ${value.displayNl}${until ? ` (tot ${until})` : ''}`
      en += `: ${value.display}${until ? ` (until ${until})` : ''}`
    }
    out.push({ code: item, nl, en })
  }
  return out.sort((a, b) => ACTION_CODES.indexOf(a.code.split('=')[0] as never) - ACTION_CODES.indexOf(b.code.split('=')[0] as never))
}

export type CardVerdict =
  | { valid: true; claims: CardClaims; words: CodeInWords[] }
  | { valid: false; reason: CardRefusal; nl: string; en: string }

export type CardRefusal = 'malformed' | 'unknown-key' | 'signature' | 'expired' | 'not-yet-valid' | 'audience' | 'issuer' | 'type'

const REASONS: Record<CardRefusal, { nl: string; en: string }> = {
  malformed: { nl: 'Dit is geen begeleidingskaart van Overdracht.', en: 'This is not an Overdracht escort card.' },
  'unknown-key': { nl: 'De kaart is ondertekend met een onbekende sleutel: niet geldig.', en: 'The card is signed with an unknown key: not valid.' },
  signature: { nl: 'De handtekening klopt niet: de kaart is gewijzigd of vervalst.', en: 'The signature does not match: the card was altered or forged.' },
  expired: { nl: 'De kaart is verlopen.', en: 'The card has expired.' },
  'not-yet-valid': { nl: 'De kaart is nog niet geldig.', en: 'The card is not valid yet.' },
  audience: { nl: 'De kaart is niet voor deze controle bedoeld.', en: 'The card is not meant for this check.' },
  issuer: { nl: 'De kaart komt niet van deze uitgever.', en: 'The card is not from this issuer.' },
  type: { nl: 'Dit token is geen begeleidingskaart.', en: 'This token is not an escort card.' },
}

const refuse = (reason: CardRefusal): CardVerdict => ({ valid: false, reason, ...REASONS[reason] })

/** Verifies a card offline: signature against the given keys, type, issuer, audience and expiry. */
export async function verifyCardToken(
  token: string,
  keys: JSONWebKeySet | JWTVerifyGetKey,
  options: { issuer: string; audience?: string; now: Date },
): Promise<CardVerdict> {
  const getKey = typeof keys === 'function' ? keys : createLocalJWKSet(keys)
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token.trim())) return refuse('malformed')
  try {
    const { payload } = await jwtVerify<CardClaims>(token.trim(), getKey, {
      issuer: options.issuer,
      audience: options.audience ?? CARD_AUDIENCE,
      typ: CARD_TYP,
      algorithms: ['ES256'],
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'task', 'dep', 'codes'],
      currentDate: options.now,
      clockTolerance: 60,
    })
    if (!Array.isArray(payload.codes) || payload.codes.some((c) => typeof c !== 'string')) return refuse('malformed')
    return { valid: true, claims: payload, words: codesInWords(payload.codes) }
  } catch (err) {
    if (err instanceof errors.JWKSNoMatchingKey) return refuse('unknown-key')
    if (err instanceof errors.JWSSignatureVerificationFailed) return refuse('signature')
    if (err instanceof errors.JWTExpired) return refuse('expired')
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.claim === 'aud') return refuse('audience')
      if (err.claim === 'iss') return refuse('issuer')
      if (err.claim === 'nbf' || err.claim === 'iat') return refuse('not-yet-valid')
      if (err.claim === 'typ') return refuse('type')
      return refuse('malformed')
    }
    return refuse('malformed')
  }
}
