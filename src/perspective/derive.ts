/**
 * The handelingsperspectief derivation (DESIGN.md section 4): a pure, deterministic function of the
 * CODED content of one patient's handover bundle and the time. It reads only `system` + `code`
 * pairs, statuses, dates and extension URLs; it never reads text, display, note, narrative,
 * comment, title, name or identifier fields, and every string in its output comes from the
 * vocabulary constants or is a date that matched the exact R4 syntax (P8).
 *
 * Rules (docs/handelingsperspectief.md is the full statement):
 *
 * 1. Flags. A top-level `Flag` entry counts when `status` is `active` and its `period`, if any,
 *    covers `now` (`period.start` <= now <= `period.end`; partial dates cover their whole span;
 *    a bound that is not a valid R4 dateTime makes the Flag unusable). Each `code.coding` with the
 *    handelingsperspectief system and a vocabulary code yields that code. The valued codes need a
 *    value in the `handelingsperspectief-value` extension; without a readable one the coding is
 *    ignored. A Flag giving `medical-postponement` = `granted` gives `until` = `period.end`.
 * 2. zib Alerts. Each `code.coding` of a counting Flag whose `system|code` is in the AlertMapping
 *    yields the mapped (unvalued) action codes.
 * 3. Observations (`status` final, amended or corrected) coded `fit-to-travel` or
 *    `medical-postponement` (handelingsperspectief system). Their time is `effectiveDateTime`,
 *    `effectiveInstant`, `effectivePeriod.start`, else `issued` (the first present; invalid makes
 *    the Observation unusable); Observations timed after `now` are not used yet. Only the latest
 *    ones (equal earliest instant) count; untimed Observations count only when no timed one exists.
 *    The value is `valueCodeableConcept` from the value CodeSystem; a fit-to-travel Observation
 *    without a readable value counts as `unknown` (a newer unreadable assessment must not let an
 *    older `yes` stand); a medical-postponement Observation without one is ignored. For `granted`,
 *    `until` is `effectivePeriod.end`.
 * 4. MedicationStatements with `status` active or intended yield `medication-accompanies`.
 * 5. Legal ground. A counting Flag with the `disclosure-legal-ground` extension (a code from the
 *    legal-ground CodeSystem) gives that ground to the safety-critical codes derived from it only.
 *
 * Conflicts (one entry per code; conservative):
 * - fit-to-travel: the most restrictive of the latest Observation(s) and every counting Flag, in the
 *   order no > unknown > conditional > yes; no source at all gives `unknown`.
 *   `fitToTravelAssessedAt` is the time of the latest fit-to-travel Observation (if any).
 * - medical-postponement: likewise, granted > requested > rejected > none; no source, no entry.
 *   Among granted sources an open-ended grant (no until) wins, else the latest until.
 * - legal grounds: a code carries one when any of its sources does; several → the first in
 *   LEGAL_GROUNDS order.
 * Output is sorted in vocabulary order (DESIGN section 4), so entry order never matters.
 */
import type { Bundle } from '@medplum/fhirtypes'
import { parseFhirTime, type FhirTime } from './fhir-time.js'
import {
  ACTION_CODES,
  HANDELINGSPERSPECTIEF_SYSTEM,
  LEGAL_GROUND_EXTENSION,
  LEGAL_GROUND_SYSTEM,
  LEGAL_GROUNDS,
  PERSPECTIVE_VALUE_EXTENSION,
  PERSPECTIVE_VALUE_SYSTEM,
  VOCABULARY,
  findValue,
  isActionCode,
  isLegalGround,
  isValuedActionCode,
  type ActionCode,
  type FitToTravel,
  type LegalGround,
  type PerspectiveValue,
  type PlainActionCode,
  type PostponementStatus,
  type ValuedActionCode,
} from './vocabulary.js'

export interface DerivedFlag {
  code: ActionCode
  /** For fit-to-travel and medical-postponement only. */
  value?: PerspectiveValue
  /** For medical-postponement = granted: the R4 date(Time) the postponement runs until. */
  until?: string
  safetyCritical: boolean
  /** Only on safety-critical codes a caregiver marked disclosable without consent. */
  legalGround?: LegalGround
}

export interface DerivedPerspective {
  /** One entry per code, in vocabulary order; fit-to-travel is always present. */
  flags: DerivedFlag[]
  /** The effective time of the latest fit-to-travel Observation, as written (R4 dateTime). */
  fitToTravelAssessedAt?: string
}

/** A zib Alert code (Flag.code) and the action codes it implies. */
export interface AlertMappingEntry {
  system: string
  code: string
  actions: readonly PlainActionCode[]
  /** Documentation only; never read into a perspective. */
  label?: string
}
export type AlertMapping = readonly AlertMappingEntry[]

const SNOMED = 'http://snomed.info/sct'

/**
 * Infection-spread risks in the zib Alert (nl-core-Alert, `code:alertName`) → hygiene-measures.
 * Only SNOMED CT codes whose meaning we could confirm from a public source are listed (sources in
 * docs/handelingsperspectief.md). Deliberately left out: blood-borne infections (HIV, hepatitis B/C)
 * need no measures beyond standard precautions in transport, so mapping them would only make
 * hygiene-measures a proxy for a diagnosis; and every non-infection alert (contraindications,
 * organ impairment, fall risk ...), which has no action consequence a chain worker could take
 * without knowing the reason. Codes we were unsure of are not guessed.
 */
export const DEFAULT_ALERT_MAPPING: AlertMapping = [
  { system: SNOMED, code: '432415000', actions: ['hygiene-measures'], label: 'Carrier of methicillin-resistant Staphylococcus aureus (MRSA)' },
  { system: SNOMED, code: '431109006', actions: ['hygiene-measures'], label: 'Carrier of vancomycin-resistant enterococcus (VRE)' },
  { system: SNOMED, code: '762988003', actions: ['hygiene-measures'], label: 'Carrier of ESBL-producing bacteria' },
  { system: SNOMED, code: '56717001', actions: ['hygiene-measures'], label: 'Tuberculosis' },
  { system: SNOMED, code: '154283005', actions: ['hygiene-measures'], label: 'Pulmonary tuberculosis' },
  { system: SNOMED, code: '128869009', actions: ['hygiene-measures'], label: 'Scabies' },
]

export interface DeriveOptions {
  /** Replaces DEFAULT_ALERT_MAPPING (pass [] to map no zib Alerts). */
  alertMapping?: AlertMapping
}

/** Most restrictive last: the ranks used to resolve conflicts. */
const FIT_TO_TRAVEL_RANK: Record<FitToTravel, number> = { yes: 0, conditional: 1, unknown: 2, no: 3 }
const POSTPONEMENT_RANK: Record<PostponementStatus, number> = { none: 0, rejected: 1, requested: 2, granted: 3 }

const OBSERVATION_STATUSES: ReadonlySet<string> = new Set(['final', 'amended', 'corrected'])
const MEDICATION_STATUSES: ReadonlySet<string> = new Set(['active', 'intended'])

type Json = Record<string, unknown>

/** One statement of a valued code's value, from a Flag or an Observation. */
interface ValueSource {
  value: PerspectiveValue
  /** For granted: the end of the postponement; undefined = open-ended. */
  until?: FhirTime
}

interface TimedSource extends ValueSource {
  time?: FhirTime
}

interface Collected {
  plain: Map<PlainActionCode, Set<LegalGround>>
  flagValues: Record<ValuedActionCode, ValueSource[]>
  observations: Record<ValuedActionCode, TimedSource[]>
}

/**
 * Derives the handelingsperspectief of the patient whose bundle this is, at `now`.
 * @throws RangeError when `now` is not a valid Date
 */
export function derivePerspective(bundle: Bundle, now: Date, options: DeriveOptions = {}): DerivedPerspective {
  const nowMs = now.getTime()
  if (Number.isNaN(nowMs)) throw new RangeError('derivePerspective needs a valid `now`')
  const mapping = alertIndex(options.alertMapping ?? DEFAULT_ALERT_MAPPING)
  const collected: Collected = {
    plain: new Map(),
    flagValues: { 'fit-to-travel': [], 'medical-postponement': [] },
    observations: { 'fit-to-travel': [], 'medical-postponement': [] },
  }

  const entries: unknown = (bundle as unknown as Json | null)?.entry
  for (const entry of Array.isArray(entries) ? entries : []) {
    const resource = isObject(entry) ? entry.resource : undefined
    if (!isObject(resource)) continue
    switch (resource.resourceType) {
      case 'Flag':
        collectFlag(resource, nowMs, mapping, collected)
        break
      case 'Observation':
        collectObservation(resource, nowMs, collected)
        break
      case 'MedicationStatement':
        if (typeof resource.status === 'string' && MEDICATION_STATUSES.has(resource.status)) addPlain(collected, 'medication-accompanies')
        break
    }
  }
  return assemble(collected)
}

function collectFlag(flag: Json, nowMs: number, mapping: ReadonlyMap<string, readonly PlainActionCode[]>, out: Collected): void {
  if (flag.status !== 'active') return
  let periodEnd: FhirTime | undefined
  if (flag.period !== undefined) {
    if (!isObject(flag.period)) return
    const { start, end } = flag.period
    const startTime = start === undefined ? undefined : parseFhirTime(start)
    periodEnd = end === undefined ? undefined : parseFhirTime(end)
    if ((start !== undefined && !startTime) || (end !== undefined && !periodEnd)) return
    if (startTime && startTime.low > nowMs) return
    if (periodEnd && periodEnd.high < nowMs) return
  }
  const legalGround = firstLegalGround(extensionCodings(flag, LEGAL_GROUND_EXTENSION, LEGAL_GROUND_SYSTEM))
  const valueCodes = extensionCodings(flag, PERSPECTIVE_VALUE_EXTENSION, PERSPECTIVE_VALUE_SYSTEM)

  for (const { system, code } of codings(isObject(flag.code) ? flag.code : undefined)) {
    if (system === HANDELINGSPERSPECTIEF_SYSTEM && isActionCode(code)) {
      if (isValuedActionCode(code)) {
        const value = mostRestrictive(code, valueCodes)
        if (value !== undefined) out.flagValues[code].push(withUntil(value, periodEnd))
      } else {
        addPlain(out, code, legalGround)
      }
    }
    const alert = key(system, code)
    for (const action of (alert !== undefined && mapping.get(alert)) || []) addPlain(out, action, legalGround)
  }
}

function collectObservation(observation: Json, nowMs: number, out: Collected): void {
  if (typeof observation.status !== 'string' || !OBSERVATION_STATUSES.has(observation.status)) return
  const actions = new Set<ValuedActionCode>()
  for (const { system, code } of codings(isObject(observation.code) ? observation.code : undefined)) {
    if (system === HANDELINGSPERSPECTIEF_SYSTEM && (code === 'fit-to-travel' || code === 'medical-postponement')) actions.add(code)
  }
  if (actions.size === 0) return

  const period = isObject(observation.effectivePeriod) ? observation.effectivePeriod : undefined
  const timeValue = [observation.effectiveDateTime, observation.effectiveInstant, period?.start, observation.issued].find(
    (v) => v !== undefined,
  )
  const time = timeValue === undefined ? undefined : parseFhirTime(timeValue)
  if (timeValue !== undefined && !time) return
  if (time && time.low > nowMs) return
  const end = period?.end === undefined ? undefined : parseFhirTime(period.end)
  if (period?.end !== undefined && !end) return

  const valueCodes = codings(isObject(observation.valueCodeableConcept) ? observation.valueCodeableConcept : undefined).filter(
    (c) => c.system === PERSPECTIVE_VALUE_SYSTEM,
  )
  for (const action of actions) {
    const value = mostRestrictive(action, valueCodes) ?? (action === 'fit-to-travel' ? 'unknown' : undefined)
    if (value === undefined) continue
    out.observations[action].push({ ...withUntil(value, end), ...(time ? { time } : {}) })
  }
}

function assemble(collected: Collected): DerivedPerspective {
  const flags: DerivedFlag[] = []
  let fitToTravelAssessedAt: string | undefined
  for (const code of ACTION_CODES) {
    const safetyCritical = VOCABULARY[code].safetyCritical
    if (isValuedActionCode(code)) {
      const latest = latestObservations(collected.observations[code])
      const sources = [...latest, ...collected.flagValues[code]]
      if (code === 'fit-to-travel') {
        const times = latest.flatMap((s) => (s.time ? [s.time.text] : [])).sort()
        fitToTravelAssessedAt = times[0]
      }
      if (sources.length === 0) {
        if (code === 'fit-to-travel') flags.push({ code, value: 'unknown', safetyCritical })
        continue
      }
      const value = sources.map((s) => s.value).reduce((a, b) => (rank(code, b) > rank(code, a) ? b : a))
      const until = value === 'granted' ? latestUntil(sources.filter((s) => s.value === 'granted')) : undefined
      flags.push({ code, value, ...(until !== undefined ? { until } : {}), safetyCritical })
      continue
    }
    const grounds = collected.plain.get(code)
    if (!grounds) continue
    const legalGround = safetyCritical ? LEGAL_GROUNDS.find((g) => grounds.has(g)) : undefined
    flags.push({ code, safetyCritical, ...(legalGround !== undefined ? { legalGround } : {}) })
  }
  return fitToTravelAssessedAt === undefined ? { flags } : { flags, fitToTravelAssessedAt }
}

/** The timed Observations at the latest time, or all untimed ones when none is timed. */
function latestObservations(sources: TimedSource[]): TimedSource[] {
  const timed = sources.filter((s) => s.time !== undefined)
  if (timed.length === 0) return sources
  const latest = Math.max(...timed.map((s) => s.time!.low))
  return timed.filter((s) => s.time!.low === latest)
}

/** Open-ended beats dated; else the latest end; equal ends → the smallest text (deterministic). */
function latestUntil(granted: ValueSource[]): string | undefined {
  if (granted.some((s) => s.until === undefined)) return undefined
  const untils = granted.map((s) => s.until!)
  const latest = Math.max(...untils.map((u) => u.high))
  return untils
    .filter((u) => u.high === latest)
    .map((u) => u.text)
    .sort()[0]
}

function withUntil(value: PerspectiveValue, end: FhirTime | undefined): ValueSource {
  return value === 'granted' && end ? { value, until: end } : { value }
}

function rank(code: ValuedActionCode, value: PerspectiveValue): number {
  return code === 'fit-to-travel' ? FIT_TO_TRAVEL_RANK[value as FitToTravel] : POSTPONEMENT_RANK[value as PostponementStatus]
}

/** The most restrictive readable value of `action` among the codings, as the vocabulary's string. */
function mostRestrictive(action: ValuedActionCode, valueCodes: { code: unknown }[]): PerspectiveValue | undefined {
  let best: PerspectiveValue | undefined
  for (const { code } of valueCodes) {
    const value = findValue(action, code)?.code
    if (value !== undefined && (best === undefined || rank(action, value) > rank(action, best))) best = value
  }
  return best
}

function addPlain(out: Collected, code: PlainActionCode, legalGround?: LegalGround): void {
  let grounds = out.plain.get(code)
  if (!grounds) out.plain.set(code, (grounds = new Set()))
  if (legalGround !== undefined) grounds.add(legalGround)
}

function firstLegalGround(legalCodes: { code: unknown }[]): LegalGround | undefined {
  return LEGAL_GROUNDS.find((g) => legalCodes.some((c) => isLegalGround(c.code) && c.code === g))
}

/** The `system`/`code` pairs of a CodeableConcept's codings (nothing else is read). */
function codings(concept: Json | undefined): { system: unknown; code: unknown }[] {
  const list = concept?.coding
  if (!Array.isArray(list)) return []
  return list.filter(isObject).map((c) => ({ system: c.system, code: c.code }))
}

/** The codings in `system` of every `valueCodeableConcept` of the resource's extensions with `url`. */
function extensionCodings(resource: Json, url: string, system: string): { code: unknown }[] {
  const extensions = resource.extension
  if (!Array.isArray(extensions)) return []
  return extensions
    .filter((e): e is Json => isObject(e) && e.url === url && isObject(e.valueCodeableConcept))
    .flatMap((e) => codings(e.valueCodeableConcept as Json))
    .filter((c) => c.system === system)
}

function alertIndex(mapping: AlertMapping): ReadonlyMap<string, readonly PlainActionCode[]> {
  const index = new Map<string, PlainActionCode[]>()
  for (const entry of mapping) {
    // Only unvalued vocabulary codes, whatever a caller passes at run time.
    const actions = entry.actions.filter((a): a is PlainActionCode => isActionCode(a) && !isValuedActionCode(a))
    const k = key(entry.system, entry.code)
    if (k !== undefined) index.set(k, [...(index.get(k) ?? []), ...actions])
  }
  return index
}

function key(system: unknown, code: unknown): string | undefined {
  return typeof system === 'string' && typeof code === 'string' ? `${system}|${code}` : undefined
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
