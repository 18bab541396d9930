/**
 * What each audience sees of a derived perspective (P4). The policy decides elsewhere whether the
 * caller may read the perspective at all (an open task naming its organisation); this only filters.
 *
 * - caregivers see every code;
 * - a non-caregiver audience sees only codes whose audience list (DESIGN section 4) includes it;
 *   with consent for purpose `action-perspective` all of those, without it only the safety-critical
 *   ones a caregiver marked with a legal ground.
 *
 * The contact line is added by the service, not here. Entries are rebuilt field by field from the
 * allow-list (code, value, until, safetyCritical, legalGround) and re-checked against the
 * vocabulary: safety-criticality comes from the vocabulary, not from the stored flag.
 */
import type { DerivedFlag, DerivedPerspective } from './derive.js'
import { parseFhirTime } from './fhir-time.js'
import { findValue, isActionCode, isLegalGround, isValuedActionCode, VOCABULARY, type Audience } from './vocabulary.js'

export type PerspectiveAudience = Audience | 'caregiver'

/** The perspective audience of a caller's role; undefined for roles that have none. */
export function audienceForRole(role: string): PerspectiveAudience | undefined {
  switch (role) {
    case 'caregiver':
    case 'regievoerder':
    case 'escort':
    case 'casemanager':
      return role
    default:
      return undefined
  }
}

export function visibleFlags(
  perspective: DerivedPerspective,
  audience: PerspectiveAudience,
  consentForActionPerspective: boolean,
): DerivedFlag[] {
  const visible: DerivedFlag[] = []
  for (const flag of perspective.flags) {
    if (!isActionCode(flag.code)) continue
    const definition = VOCABULARY[flag.code]
    if (audience !== 'caregiver') {
      if (!definition.audiences.includes(audience)) continue
      if (!consentForActionPerspective && !(definition.safetyCritical && isLegalGround(flag.legalGround))) continue
    }
    // Re-checked against the vocabulary: a perspective may come back from storage.
    const value = isValuedActionCode(definition.code) ? findValue(definition.code, flag.value)?.code : undefined
    const until = value === 'granted' ? parseFhirTime(flag.until)?.text : undefined
    const legalGround = definition.safetyCritical && isLegalGround(flag.legalGround) ? flag.legalGround : undefined
    visible.push({
      code: definition.code,
      ...(value !== undefined ? { value } : {}),
      ...(until !== undefined ? { until } : {}),
      safetyCritical: definition.safetyCritical,
      ...(legalGround !== undefined ? { legalGround } : {}),
    })
  }
  return visible
}
