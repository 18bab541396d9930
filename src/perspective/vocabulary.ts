/**
 * The closed vocabulary of the handelingsperspectief (DESIGN.md section 4): what non-medical chain
 * workers must do, never why. Three CodeSystems, all served by the app:
 *
 * - `https://overdracht.nl/fhir/CodeSystem/handelingsperspectief`: the nine action codes, each
 *   with its audiences (the table columns of DESIGN section 4) and whether it is safety-critical;
 * - `https://overdracht.nl/fhir/CodeSystem/handelingsperspectief-value`: the values of the two
 *   valued codes (fit-to-travel: yes/no/conditional/unknown; medical-postponement:
 *   none/requested/granted/rejected); the codes of the two sets are disjoint, and each concept
 *   names the action code it belongs to (property `applies-to`);
 * - `https://overdracht.nl/fhir/CodeSystem/disclosure-legal-ground`: the legal ground a caregiver
 *   records when marking a safety-critical Flag disclosable without consent.
 *
 * Every string the perspective ever emits comes from the constants in this file.
 */
import type { CodeSystem, CodeSystemConcept } from '@medplum/fhirtypes'
import { SYSTEM } from '../fhir/systems.js'

export const HANDELINGSPERSPECTIEF_SYSTEM = SYSTEM.handelingsperspectief
export const PERSPECTIVE_VALUE_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/handelingsperspectief-value'
export const LEGAL_GROUND_SYSTEM = 'https://overdracht.nl/fhir/CodeSystem/disclosure-legal-ground'

/** Flag extension (valueCodeableConcept from LEGAL_GROUND_SYSTEM): disclosable without consent. */
export const LEGAL_GROUND_EXTENSION = 'https://overdracht.nl/fhir/StructureDefinition/disclosure-legal-ground'
/** Flag extension (valueCodeableConcept from PERSPECTIVE_VALUE_SYSTEM): the value of a valued code. */
export const PERSPECTIVE_VALUE_EXTENSION = 'https://overdracht.nl/fhir/StructureDefinition/handelingsperspectief-value'

/** The non-caregiver audiences: the columns of the table in DESIGN section 4. */
export const AUDIENCES = ['regievoerder', 'escort', 'casemanager'] as const
export type Audience = (typeof AUDIENCES)[number]

/** The action codes in the order of DESIGN section 4; derived perspectives are sorted by it. */
export const ACTION_CODES = [
  'fit-to-travel',
  'medical-postponement',
  'medical-escort-required',
  'medication-accompanies',
  'contact-medical-service',
  'extra-supervision',
  'hygiene-measures',
  'mobility-aid',
  'restraints-medically-discouraged',
] as const
export type ActionCode = (typeof ACTION_CODES)[number]

/** The two codes that carry a value. */
export type ValuedActionCode = 'fit-to-travel' | 'medical-postponement'
/** The codes that are present or absent, without a value. */
export type PlainActionCode = Exclude<ActionCode, ValuedActionCode>

export const FIT_TO_TRAVEL_VALUES = ['yes', 'no', 'conditional', 'unknown'] as const
export type FitToTravel = (typeof FIT_TO_TRAVEL_VALUES)[number]
export const POSTPONEMENT_VALUES = ['none', 'requested', 'granted', 'rejected'] as const
export type PostponementStatus = (typeof POSTPONEMENT_VALUES)[number]
export type PerspectiveValue = FitToTravel | PostponementStatus

export interface ActionCodeDefinition {
  code: ActionCode
  display: string
  displayNl: string
  definition: string
  /** The non-caregiver audiences that may see the code (caregivers see every code). */
  audiences: readonly Audience[]
  /** Disclosable without consent when a caregiver recorded a legal ground (P4). */
  safetyCritical: boolean
}

export const VOCABULARY: Readonly<Record<ActionCode, ActionCodeDefinition>> = {
  'fit-to-travel': {
    code: 'fit-to-travel',
    display: 'Medically fit to travel',
    displayNl: 'Medisch reisvaardig',
    definition:
      'Whether the person is medically fit to travel: yes, no, conditional (only under the medical travel conditions) or unknown (no current assessment).',
    audiences: ['regievoerder', 'escort'],
    safetyCritical: false,
  },
  'medical-postponement': {
    code: 'medical-postponement',
    display: 'Medical postponement of departure (art. 64 Vw 2000)',
    displayNl: 'Uitstel van vertrek om medische redenen (art. 64 Vw 2000)',
    definition:
      'The state of the art. 64 Vreemdelingenwet 2000 procedure: none, requested, granted (until a date) or rejected.',
    audiences: ['regievoerder'],
    safetyCritical: false,
  },
  'medical-escort-required': {
    code: 'medical-escort-required',
    display: 'Medical escort required',
    displayNl: 'Medische begeleiding vereist',
    definition: 'A nurse or doctor must escort the person.',
    audiences: ['regievoerder', 'escort'],
    safetyCritical: false,
  },
  'medication-accompanies': {
    code: 'medication-accompanies',
    display: 'Medication accompanies the person',
    displayNl: 'Medicatie gaat mee',
    definition: 'Medication must go along with the person.',
    audiences: ['escort'],
    safetyCritical: false,
  },
  'contact-medical-service': {
    code: 'contact-medical-service',
    display: 'Contact the medical service before transport',
    displayNl: 'Neem voor transport contact op met de medische dienst',
    definition: 'Consult the issuing medical service before transport.',
    audiences: ['regievoerder', 'escort', 'casemanager'],
    safetyCritical: false,
  },
  'extra-supervision': {
    code: 'extra-supervision',
    display: 'Extra supervision needed',
    displayNl: 'Extra toezicht nodig',
    definition: 'Extra supervision of the person is needed.',
    audiences: ['regievoerder', 'escort', 'casemanager'],
    safetyCritical: true,
  },
  'hygiene-measures': {
    code: 'hygiene-measures',
    display: 'Infection-control measures needed',
    displayNl: 'Hygiënemaatregelen nodig',
    definition: 'Infection-control (hygiene) measures are needed.',
    audiences: ['escort', 'casemanager'],
    safetyCritical: true,
  },
  'mobility-aid': {
    code: 'mobility-aid',
    display: 'Mobility aid needed',
    displayNl: 'Loophulpmiddel nodig',
    definition: 'The person needs a mobility aid.',
    audiences: ['escort', 'casemanager'],
    safetyCritical: false,
  },
  'restraints-medically-discouraged': {
    code: 'restraints-medically-discouraged',
    display: 'Restraints medically discouraged',
    displayNl: 'Vrijheidsbeperkende middelen medisch ontraden',
    definition: 'Restraints are medically discouraged.',
    audiences: ['escort'],
    safetyCritical: false,
  },
}

export interface ValueDefinition {
  code: PerspectiveValue
  /** The action code whose value this is. */
  appliesTo: ValuedActionCode
  display: string
  displayNl: string
  definition: string
}

export const VALUE_VOCABULARY: readonly ValueDefinition[] = [
  { code: 'yes', appliesTo: 'fit-to-travel', display: 'Fit to travel', displayNl: 'Reisvaardig', definition: 'Medically fit to travel.' },
  { code: 'no', appliesTo: 'fit-to-travel', display: 'Not fit to travel', displayNl: 'Niet reisvaardig', definition: 'Not medically fit to travel.' },
  {
    code: 'conditional',
    appliesTo: 'fit-to-travel',
    display: 'Fit to travel under conditions',
    displayNl: 'Reisvaardig onder voorwaarden',
    definition: 'Fit to travel only under the medical travel conditions (see the other action codes and the medical service).',
  },
  {
    code: 'unknown',
    appliesTo: 'fit-to-travel',
    display: 'Fitness to travel unknown',
    displayNl: 'Reisvaardigheid onbekend',
    definition: 'No usable current assessment of fitness to travel.',
  },
  { code: 'none', appliesTo: 'medical-postponement', display: 'No postponement', displayNl: 'Geen uitstel', definition: 'No art. 64 procedure.' },
  {
    code: 'requested',
    appliesTo: 'medical-postponement',
    display: 'Postponement requested',
    displayNl: 'Uitstel aangevraagd',
    definition: 'An art. 64 postponement has been requested and not yet decided.',
  },
  {
    code: 'granted',
    appliesTo: 'medical-postponement',
    display: 'Postponement granted',
    displayNl: 'Uitstel verleend',
    definition: 'An art. 64 postponement has been granted, until the date given with it.',
  },
  {
    code: 'rejected',
    appliesTo: 'medical-postponement',
    display: 'Postponement rejected',
    displayNl: 'Uitstel afgewezen',
    definition: 'An art. 64 postponement was requested and rejected.',
  },
]

/**
 * The legal grounds for disclosing a safety-critical code without consent. Kept to the two the
 * domain notes source (domain-nl.md section 1): art. 7:457 lid 1 BW lets a legal duty override
 * medical secrecy, and the KNMG's "conflict van plichten" allows a minimal breach to avert a
 * concrete, serious danger that cannot be averted otherwise. Consent is not a legal ground here: with
 * consent the codes are visible anyway. `legalBasis` is the matching LegalBasis of consent/policy.ts.
 */
export const LEGAL_GROUNDS = ['legal-obligation', 'conflict-of-duties'] as const
export type LegalGround = (typeof LEGAL_GROUNDS)[number]

export interface LegalGroundDefinition {
  code: LegalGround
  display: string
  displayNl: string
  definition: string
  legalBasis: 'LEGAL_OBLIGATION' | 'CONFLICT_OF_DUTIES'
}

export const LEGAL_GROUND_VOCABULARY: Readonly<Record<LegalGround, LegalGroundDefinition>> = {
  'legal-obligation': {
    code: 'legal-obligation',
    display: 'Legal obligation',
    displayNl: 'Wettelijke plicht',
    definition:
      'A statutory duty requires the disclosure; it overrides medical secrecy (art. 7:457 lid 1 BW). The caregiver records which duty in the dossier.',
    legalBasis: 'LEGAL_OBLIGATION',
  },
  'conflict-of-duties': {
    code: 'conflict-of-duties',
    display: 'Conflict of duties',
    displayNl: 'Conflict van plichten',
    definition:
      'Keeping silent would cause serious harm to the person or others that can be averted only by this disclosure, consent was sought or could not be, and only the minimum is disclosed (KNMG, conflict van plichten). The weighing is redone for every case: the caregiver ends the marking with the Flag.',
    legalBasis: 'CONFLICT_OF_DUTIES',
  },
}

const ACTION_CODE_SET: ReadonlySet<string> = new Set(ACTION_CODES)
const LEGAL_GROUND_SET: ReadonlySet<string> = new Set(LEGAL_GROUNDS)

export function isActionCode(code: unknown): code is ActionCode {
  return typeof code === 'string' && ACTION_CODE_SET.has(code)
}

export function isValuedActionCode(code: ActionCode): code is ValuedActionCode {
  return code === 'fit-to-travel' || code === 'medical-postponement'
}

export function isLegalGround(code: unknown): code is LegalGround {
  return typeof code === 'string' && LEGAL_GROUND_SET.has(code)
}

/** The value definition for `code` as a value of `action`, or undefined when it is not one. */
export function findValue(action: ValuedActionCode, code: unknown): ValueDefinition | undefined {
  return VALUE_VOCABULARY.find((v) => v.appliesTo === action && v.code === code)
}

const PUBLISHER = 'Overdracht'
const VERSION = '1.0.0'
const DATE = '2026-11-24'
const DUTCH = 'nl'

function dutch(value: string): NonNullable<CodeSystemConcept['designation']>[number] {
  return { language: DUTCH, value }
}

/** The handelingsperspectief CodeSystem, with audiences and safety-criticality on every concept. */
export function codeSystemResource(): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    id: 'handelingsperspectief',
    url: HANDELINGSPERSPECTIEF_SYSTEM,
    version: VERSION,
    name: 'Handelingsperspectief',
    title: 'Handelingsperspectief (action perspective) for non-medical chain workers',
    status: 'active',
    experimental: false,
    date: DATE,
    publisher: PUBLISHER,
    description:
      'The closed vocabulary of what non-medical workers in the migration chain must do, never why. Each code lists the non-caregiver audiences (regievoerder, escort, casemanager) it is meant for; safety-critical codes may be disclosed without consent when a caregiver recorded a legal ground.',
    caseSensitive: true,
    content: 'complete',
    count: ACTION_CODES.length,
    property: [
      {
        code: 'audience',
        uri: `${HANDELINGSPERSPECTIEF_SYSTEM}#audience`,
        description: 'A non-caregiver audience the code is meant for: regievoerder, escort or casemanager (repeats).',
        type: 'string',
      },
      {
        code: 'safety-critical',
        uri: `${HANDELINGSPERSPECTIEF_SYSTEM}#safety-critical`,
        description: 'Disclosable without consent when a caregiver recorded a legal ground.',
        type: 'boolean',
      },
    ],
    concept: ACTION_CODES.map((code) => {
      const def = VOCABULARY[code]
      return {
        code,
        display: def.display,
        definition: def.definition,
        designation: [dutch(def.displayNl)],
        property: [
          ...def.audiences.map((audience) => ({ code: 'audience', valueString: audience })),
          { code: 'safety-critical', valueBoolean: def.safetyCritical },
        ],
      }
    }),
  }
}

/** The values of fit-to-travel and medical-postponement, each naming the code it applies to. */
export function valueCodeSystemResource(): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    id: 'handelingsperspectief-value',
    url: PERSPECTIVE_VALUE_SYSTEM,
    version: VERSION,
    name: 'HandelingsperspectiefValue',
    title: 'Values of the valued handelingsperspectief codes',
    status: 'active',
    experimental: false,
    date: DATE,
    publisher: PUBLISHER,
    description:
      'Values of fit-to-travel (yes, no, conditional, unknown) and medical-postponement (none, requested, granted, rejected). Used as Observation.valueCodeableConcept and in the handelingsperspectief-value Flag extension.',
    caseSensitive: true,
    content: 'complete',
    count: VALUE_VOCABULARY.length,
    property: [
      {
        code: 'applies-to',
        uri: `${PERSPECTIVE_VALUE_SYSTEM}#applies-to`,
        description: 'The handelingsperspectief code this is a value of.',
        type: 'Coding',
      },
    ],
    concept: VALUE_VOCABULARY.map((v) => ({
      code: v.code,
      display: v.display,
      definition: v.definition,
      designation: [dutch(v.displayNl)],
      property: [{ code: 'applies-to', valueCoding: { system: HANDELINGSPERSPECTIEF_SYSTEM, code: v.appliesTo } }],
    })),
  }
}

/** The legal grounds for disclosing a safety-critical code without consent. */
export function legalGroundCodeSystemResource(): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    id: 'disclosure-legal-ground',
    url: LEGAL_GROUND_SYSTEM,
    version: VERSION,
    name: 'DisclosureLegalGround',
    title: 'Legal ground for disclosing a safety-critical action code without consent',
    status: 'active',
    experimental: false,
    date: DATE,
    publisher: PUBLISHER,
    description:
      'Recorded by a caregiver on a Flag carrying a safety-critical handelingsperspectief code (extension https://overdracht.nl/fhir/StructureDefinition/disclosure-legal-ground) to make that code visible to its audiences without consent for purpose action-perspective.',
    caseSensitive: true,
    content: 'complete',
    count: LEGAL_GROUNDS.length,
    concept: LEGAL_GROUNDS.map((code) => {
      const def = LEGAL_GROUND_VOCABULARY[code]
      return { code, display: def.display, definition: def.definition, designation: [dutch(def.displayNl)] }
    }),
  }
}
