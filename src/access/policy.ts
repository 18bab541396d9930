import type { Principal } from '../http/principal.js'

/**
 * The policy decision point: one pure function of the request, the facts the service gathered
 * and the time. Routes and services never decide on their own; they gather facts, call
 * `decide`, audit the decision and act on it.
 */

export type Action =
  | 'dossier.read'
  | 'dossier.upload'
  | 'patient.search'
  | 'patient.read'
  | 'consent.record'
  | 'consent.withdraw'
  | 'consent.read'
  | 'consent.token'
  | 'consent.form-check'
  | 'perspective.read'
  | 'task.create'
  | 'task.update'
  | 'task.read'
  | 'task.search'
  | 'audit.read'
  | 'emergency.review'
  | 'patient.erase'
  | 'subscription.create'
  | 'subscription.read'
  | 'subscription.search'
  | 'subscription.delete'

/** Consent purposes, and the purposes of use the audit log records for other actions. */
export type Purpose = 'handover' | 'action-perspective' | 'handover-coordination' | 'privacy-oversight'

export type LegalBasis = 'EXPLICIT_CONSENT' | 'CONFLICT_OF_DUTIES' | 'DIRECT_TREATMENT' | 'LEGAL_OBLIGATION'

export type ReasonCode =
  | 'permit-consent'
  | 'permit-emergency'
  | 'permit-emergency-window'
  | 'permit-caregiver'
  | 'permit-own-record'
  | 'permit-privacy-officer'
  | 'permit-task-party'
  | 'permit-safety-critical-only'
  | 'deny-not-caregiver'
  | 'deny-big-not-verified'
  | 'deny-organisation-type'
  | 'deny-not-privacy-officer'
  | 'deny-patient-unknown'
  | 'deny-no-consent-token'
  | 'deny-token-invalid'
  | 'deny-token-other-patient'
  | 'deny-token-other-recipient'
  | 'deny-token-purpose'
  | 'deny-consent-not-active'
  | 'deny-consent-superseded'
  | 'deny-consent-period'
  | 'deny-consent-provision'
  | 'deny-no-consent'
  | 'deny-emergency-reason'
  | 'deny-no-task'
  | 'deny-big-unavailable'
  | 'deny-task-not-allowed'
  | 'deny-no-relationship'
  | 'deny-other-organisation'
  | 'deny-content-excluded'

export type Obligation =
  | 'audit-break-glass'
  | 'open-emergency-review'
  | 'open-emergency-window'
  | 'safety-critical-only'
  | 'withhold-match'
  | 'withhold-content'

export interface Decision {
  effect: 'permit' | 'deny'
  reason: ReasonCode
  legalBasis: LegalBasis | undefined
  obligations: Obligation[]
  /** The consent the decision rests on, when one does. */
  consentId?: string
  /** With `withhold-content`: what the patient's consents exclude from this release. */
  withhold?: ContentExclusion
}

/** Content a consent excludes: sensitive categories (security label codes) and resource types. */
export interface ContentExclusion {
  labels: string[]
  classes: string[]
}

/** A recipient named in a consent provision or a consent token. */
export interface Actor {
  org?: string
  orgType?: string
  big?: string
}

export interface ProvisionFact {
  type: 'permit' | 'deny'
  /** Empty: the provision holds for every purpose. */
  purposes: string[]
  /** Empty: the provision holds for every recipient. */
  actors: Actor[]
  period?: Period
  /**
   * A deny that excludes content rather than access: the recipients it holds for still receive
   * the dossier, without the content named here. It takes no part in deciding access.
   */
  content?: ContentExclusion
}

export interface Period {
  start?: Date
  end?: Date
}

export interface ConsentFact {
  id: string
  status: 'active' | 'rejected' | 'inactive'
  /** When the service received the consent or refusal: the order in which they take effect. */
  recordedAt: Date
  /** When it was withdrawn; set for status `inactive`. */
  withdrawnAt?: Date
  period?: Period
  provisions: ProvisionFact[]
}

export type TokenFact =
  | {
      valid: true
      consentId: string
      patientId: string
      purpose: string
      recipient?: Actor
      expiresAt: Date
    }
  | { valid: false; problem: string }

export interface BigFact {
  verified: boolean
  /** The registered profession (e.g. arts), for provenance; not used to decide. */
  profession?: string
}

export interface Facts {
  /** The BIG register's answer for the caller's BIG number, for callers claiming `caregiver`. */
  big?: BigFact
  patientExists?: boolean
  /** The service's id of the patient the request is about. */
  patientId?: string
  /** Every consent record of the patient, in any state. */
  consents?: ConsentFact[]
  /** The presented consent token, verified by the service. */
  token?: TokenFact
  /** An emergency reason given on this request. */
  emergencyReason?: string
  /** An emergency window this caller opened earlier for this patient, still open. */
  emergencyWindowOpen?: boolean
  /** The kind of task being created. */
  taskCode?: 'transfer' | 'departure' | 'case'
  /** How the caller's organisation stands in the task: requester, owner or extra recipient. */
  taskParty?: 'requester' | 'owner' | 'recipient'
  /** Entries of an upload holding content the consents in force exclude for every recipient. */
  excludedEntries?: number
  /** The uploader confirmed that such content is stored for the patient's own copy. */
  ownCopyConfirmed?: boolean
  /** A read of one Bundle by id: whether the caller's organisation uploaded that Bundle. */
  uploadedByCaller?: boolean
  /** The legal ground a caregiver recorded for disclosing safety-critical codes without consent. */
  recordedLegalGround?: LegalBasis
  /**
   * How the caller's organisation stands to the patient, from the care relationships that other
   * parties established (a custodian's consent record or transfer, a regievoerder's task).
   */
  relationship?: RelationshipFact
  /** For a departure or case: whether the caller's organisation is a configured departure authority. */
  taskAuthority?: boolean
  /** Whether what is asked for belongs to the caller's own organisation (an inbox, a review). */
  ownOrganisation?: boolean
  /** For a task update: whether the caller's party may make the status change asked for. */
  transitionByParty?: boolean
  /** For a task update: whether it changes which organisations are extra recipients. */
  changesRecipients?: boolean
  /** For a task update: whether it changes the planned date. */
  changesPlan?: boolean
  /** For a task update: whether it records a phone handover (or changes who is recorded for one). */
  recordsPhoneHandover?: boolean
  /** For such an update: whether the caller's own BIG number is one of the two caregivers recorded. */
  phoneHandoverByCaller?: boolean
}

/** The caller's organisation's relationships with the patient, as they stand now. */
export interface RelationshipFact {
  /** The patient has (or had) a custodian here; when not, the first care organisation to record a consent becomes it. */
  patientHasCustodian: boolean
  /** The caller's organisation is a custodian now. */
  custodian: boolean
  /** The caller's organisation is or was a custodian. */
  everCustodian: boolean
  /** The caller's organisation owns an open transfer of the patient. */
  receiver: boolean
  /** An open task names the caller's organisation (or one that ended within the grace period). */
  taskParty: boolean
}

export const NO_RELATIONSHIP: RelationshipFact = {
  patientHasCustodian: false,
  custodian: false,
  everCustodian: false,
  receiver: false,
  taskParty: false,
}

export interface AccessRequest {
  principal: Pick<Principal, 'role' | 'org' | 'orgType' | 'big'>
  action: Action
  purpose?: Purpose
}

/** Actions whose refusal to a non-caregiver must not tell whether data exists (P3). */
const HIDDEN_FOR_NON_CAREGIVERS: readonly Action[] = ['dossier.read', 'perspective.read']

export const EMERGENCY_REASON_MIN_LENGTH = 20

/**
 * How long an emergency reason is: its letters and digits, in any script. Spaces, punctuation,
 * format characters (zero-width spaces, direction marks) and combining marks do not count.
 */
export const emergencyReasonLength = (reason: string): number => (reason.match(/[\p{L}\p{N}]/gu) ?? []).length

/** Organisation types whose caregivers hold the dossier and record consent: the custodians. */
export const SOURCE_ORG_TYPES: readonly string[] = ['gza', 'dji-medical']

/** Organisation types of care providers: only their caregivers take caregiver decisions. */
export const CARE_ORG_TYPES: readonly string[] = ['gza', 'dji-medical', 'medical-escort']

const permit = (reason: ReasonCode, legalBasis?: LegalBasis, obligations: Obligation[] = [], consentId?: string): Decision => ({
  effect: 'permit',
  reason,
  legalBasis,
  obligations,
  ...(consentId ? { consentId } : {}),
})

const deny = (reason: ReasonCode, consentId?: string): Decision => ({
  effect: 'deny',
  reason,
  legalBasis: undefined,
  obligations: [],
  ...(consentId ? { consentId } : {}),
})

const rel = (facts: Facts): RelationshipFact => facts.relationship ?? NO_RELATIONSHIP

/** The organisation types each non-caregiver role belongs to: a token claiming otherwise is not believed. */
export const ROLE_ORG_TYPES: Readonly<Record<'regievoerder' | 'escort' | 'casemanager', readonly string[]>> = {
  regievoerder: ['dtv'],
  escort: ['dvo', 'kmar'],
  casemanager: ['coa'],
}

export function decide(request: AccessRequest, facts: Facts, now: Date): Decision {
  const { principal, action } = request
  const role = principal.role
  if ((role === 'regievoerder' || role === 'escort' || role === 'casemanager') && !ROLE_ORG_TYPES[role].includes(principal.orgType)) {
    return deny(HIDDEN_FOR_NON_CAREGIVERS.includes(action) ? 'deny-not-caregiver' : 'deny-organisation-type')
  }
  switch (action) {
    case 'dossier.read':
      return decideDossierRead(request, facts, now)
    case 'dossier.upload': {
      const gate = caregiverGate(request, facts, SOURCE_ORG_TYPES)
      if (gate) return gate
      // Only a custodian adds dossier versions: nobody replaces another organisation's dossier. An
      // unknown patient is answered the same way, so the answer reveals no V-nummer or BSN.
      if (facts.patientExists !== true || !rel(facts).custodian) return deny('deny-no-relationship')
      // P5: the dossier becomes available only with active consent for handover.
      const effective = effectiveConsents(facts.consents ?? [], now)
      const anyHandover = effective.some((consent) =>
        consent.provisions.some((p) => p.type === 'permit' && p.purposes.includes('handover') && inPeriod(p.period, now)),
      )
      if (!anyHandover) return deny('deny-no-consent')
      // Minimisation at intake: content no recipient may ever receive is stored only when the
      // uploader confirms it is kept for the patient's own copy.
      if ((facts.excludedEntries ?? 0) > 0 && facts.ownCopyConfirmed !== true) return deny('deny-content-excluded', effective[effective.length - 1]?.id)
      return permit('permit-consent', 'EXPLICIT_CONSENT', [], effective[effective.length - 1]?.id)
    }
    case 'patient.search': {
      const gate = caregiverGate(request, facts)
      if (gate) return gate
      // A match is shown only to a caregiver of an organisation with a relationship to the patient:
      // to anyone else the identifiers of a person in another organisation's care stay unknown.
      const relationship = rel(facts)
      const related = relationship.custodian || relationship.receiver || relationship.taskParty
      return permit('permit-caregiver', 'DIRECT_TREATMENT', facts.patientExists === true && !related ? ['withhold-match'] : [])
    }
    case 'patient.read': {
      // The search's rule for one patient by id; to an unrelated caregiver the id names nobody.
      const gate = caregiverGate(request, facts)
      if (gate) return gate
      if (facts.patientExists !== true) return deny('deny-patient-unknown')
      const relationship = rel(facts)
      return relationship.custodian || relationship.receiver || relationship.taskParty ? permit('permit-caregiver', 'DIRECT_TREATMENT') : deny('deny-no-relationship')
    }
    case 'consent.record': {
      const gate = caregiverGate(request, facts, SOURCE_ORG_TYPES)
      if (gate) return gate
      // The first care organisation to record a consent or refusal for a patient the service does
      // not know becomes its custodian; after that only custodians record. A patient known through
      // a regievoerder's task but without custodian yet can be claimed only by a care organisation
      // that task names.
      const relationship = rel(facts)
      if (relationship.patientHasCustodian) return relationship.custodian ? permit('permit-caregiver', 'DIRECT_TREATMENT') : deny('deny-no-relationship')
      if (facts.patientExists === true && !relationship.taskParty && !relationship.receiver) return deny('deny-no-relationship')
      return permit('permit-caregiver', 'DIRECT_TREATMENT')
    }
    case 'consent.read':
    case 'consent.withdraw':
    case 'consent.token': {
      // Consent records and tokens belong to the patient's custodians.
      const gate = caregiverGate(request, facts, SOURCE_ORG_TYPES)
      if (gate) return gate
      if (facts.patientExists === false) return deny('deny-patient-unknown')
      return rel(facts).custodian ? permit('permit-caregiver', 'DIRECT_TREATMENT') : deny('deny-no-relationship')
    }
    case 'consent.form-check': {
      // A care organisation's check of its own patients' consent forms: the answer is bounded by
      // custody (the service lists only patients the caller's organisation holds).
      const gate = caregiverGate(request, facts, SOURCE_ORG_TYPES)
      return gate ?? permit('permit-caregiver', 'DIRECT_TREATMENT')
    }
    case 'audit.read':
    case 'patient.erase': {
      // The care provider answers for the patient's log and erasure: its privacy officer, for
      // patients of which it is or was custodian.
      if (principal.role !== 'privacy-officer') return deny('deny-not-privacy-officer')
      if (!SOURCE_ORG_TYPES.includes(principal.orgType)) return deny('deny-organisation-type')
      if (facts.patientExists === false) return deny('deny-patient-unknown')
      // The log answers for what the organisation held, so a former custodian reads it too; only a
      // current custodian erases: a former one would destroy the records its successor holds.
      const relationship = rel(facts)
      const may = action === 'audit.read' ? relationship.everCustodian : relationship.custodian
      return may ? permit('permit-privacy-officer', 'LEGAL_OBLIGATION') : deny('deny-no-relationship')
    }
    case 'emergency.review':
      // Listing needs no patient facts: each officer sees its own queue. Closing one review needs
      // the officer's organisation to be or have been the patient's custodian.
      if (principal.role !== 'privacy-officer') return deny('deny-not-privacy-officer')
      // Break-the-glass is a caregiver's act: only care organisations have reviews to keep.
      if (!CARE_ORG_TYPES.includes(principal.orgType)) return deny('deny-organisation-type')
      if (facts.patientExists === false) return deny('deny-patient-unknown')
      // The organisation that holds the records now judges who broke the glass on them.
      if (facts.relationship !== undefined && !facts.relationship.custodian) return deny('deny-other-organisation')
      return permit('permit-privacy-officer', 'LEGAL_OBLIGATION')
    case 'perspective.read':
      return decidePerspective(request, facts, now)
    case 'task.create':
      return decideTaskCreate(request, facts)
    case 'task.update':
    case 'task.read': {
      if (principal.role === 'privacy-officer') return deny('deny-not-caregiver')
      if (principal.role === 'caregiver') {
        const gate = caregiverGate(request, facts, CARE_ORG_TYPES)
        if (gate) return gate
      }
      if (facts.taskParty === undefined) return deny('deny-no-task')
      if (action === 'task.update') {
        if (facts.taskParty === 'recipient') return deny('deny-task-not-allowed')
        if (facts.transitionByParty === false) return deny('deny-task-not-allowed')
        // Widening who may read the handelingsperspectief is the requester's call alone (P4).
        if (facts.changesRecipients === true && facts.taskParty !== 'requester') return deny('deny-task-not-allowed')
        // So is moving the planned date: the owner carries the task out, it does not reschedule it.
        if (facts.changesPlan === true && facts.taskParty !== 'requester') return deny('deny-task-not-allowed')
        // A phone handover is between two caregivers; one of them records it, under their own BIG number.
        if (facts.recordsPhoneHandover === true) {
          if (principal.role !== 'caregiver') return deny('deny-not-caregiver')
          if (facts.phoneHandoverByCaller !== true) return deny('deny-task-not-allowed')
        }
      }
      return permit('permit-task-party', 'LEGAL_OBLIGATION')
    }
    case 'subscription.create':
    case 'subscription.read':
    case 'subscription.search':
    case 'subscription.delete':
      // A receiving organisation's own system registers where it is told of tasks naming it: only
      // for its own URA, whoever of it asks (a caregiver only when the BIG register confirms them).
      // The notifications carry no patient, so no care relationship is needed.
      if (principal.role === 'privacy-officer') return deny('deny-not-caregiver')
      if (principal.role === 'caregiver') {
        const gate = caregiverGate(request, facts, CARE_ORG_TYPES)
        if (gate) return gate
      }
      if (facts.ownOrganisation !== true) return deny('deny-other-organisation')
      return permit('permit-task-party', 'LEGAL_OBLIGATION')
    case 'task.search':
      if (principal.role === 'privacy-officer') return deny('deny-not-caregiver')
      if (principal.role === 'caregiver') {
        const gate = caregiverGate(request, facts, CARE_ORG_TYPES)
        if (gate) return gate
      }
      if (facts.ownOrganisation === false) return deny('deny-other-organisation')
      return permit('permit-task-party', 'LEGAL_OBLIGATION')
  }
}

/**
 * Who announces what: a custodian's caregiver a transfer of its patient, a DT&V regievoerder
 * (of a configured departure authority, where configured) departures and cases.
 */
function decideTaskCreate(request: AccessRequest, facts: Facts): Decision {
  const { principal } = request
  if (facts.taskCode === 'transfer') {
    const gate = caregiverGate(request, facts, SOURCE_ORG_TYPES)
    if (gate) return gate
    // An unknown patient is answered as an unrelated one: the answer tells nobody which V-nummers are known.
    return facts.patientExists === true && rel(facts).custodian ? permit('permit-caregiver', 'DIRECT_TREATMENT') : deny('deny-no-relationship')
  }
  if (principal.role === 'regievoerder' && principal.orgType === 'dtv' && (facts.taskCode === 'departure' || facts.taskCode === 'case')) {
    return facts.taskAuthority === true ? permit('permit-task-party', 'LEGAL_OBLIGATION') : deny('deny-task-not-allowed')
  }
  return deny('deny-task-not-allowed')
}

/**
 * P4: non-caregivers read the handelingsperspectief only for a patient with an open task naming
 * their organisation; with consent for `action-perspective` the codes for their role, without it
 * only safety-critical codes with a recorded legal ground. Verified caregivers read it too.
 */
function decidePerspective(request: AccessRequest, facts: Facts, now: Date): Decision {
  const { principal } = request
  if (principal.role === 'privacy-officer') return deny('deny-not-caregiver')
  if (principal.role === 'caregiver') {
    const gate = caregiverGate(request, facts, CARE_ORG_TYPES)
    if (gate) return gate
    // Caregivers see every code: only those of a custodian, a receiver or a task party. An unknown
    // patient is answered as an unrelated one.
    const relationship = rel(facts)
    if (facts.patientExists !== true || (!relationship.custodian && !relationship.receiver && !relationship.taskParty)) {
      return deny('deny-no-relationship')
    }
    return permit('permit-caregiver', 'DIRECT_TREATMENT')
  }
  if (facts.patientExists !== true) return deny('deny-patient-unknown')
  if (!rel(facts).taskParty) return deny('deny-no-task')
  const effective = effectiveConsents(facts.consents ?? [], now)
  if (evaluateProvisions(effective, 'action-perspective', principal, now) === 'permit') {
    return permit('permit-consent', 'EXPLICIT_CONSENT', [], effective[effective.length - 1]?.id)
  }
  return permit('permit-safety-critical-only', facts.recordedLegalGround ?? 'LEGAL_OBLIGATION', ['safety-critical-only'])
}

/**
 * What the caller's role and organisation type allow before any fact about a patient is known: a
 * deny when the action can never be permitted to this caller, so that a body is not even read.
 */
export function attemptGate(request: AccessRequest, facts: Pick<Facts, 'big'>): Decision | undefined {
  switch (request.action) {
    case 'dossier.upload':
    case 'consent.record':
    case 'consent.withdraw':
    case 'consent.token':
      return caregiverGate(request, facts, SOURCE_ORG_TYPES)
    case 'patient.erase':
      if (request.principal.role !== 'privacy-officer') return deny('deny-not-privacy-officer')
      return SOURCE_ORG_TYPES.includes(request.principal.orgType) ? undefined : deny('deny-organisation-type')
    default:
      return undefined
  }
}

/** A caregiver of a care organisation whom the BIG register confirms; `orgTypes` narrows the organisations. */
function caregiverGate(request: AccessRequest, facts: Facts, orgTypes: readonly string[] = CARE_ORG_TYPES): Decision | undefined {
  if (request.principal.role !== 'caregiver') return deny('deny-not-caregiver')
  // A non-care organisation's "caregiver" is no caregiver, whatever the register says of the person.
  if (!CARE_ORG_TYPES.includes(request.principal.orgType)) return deny('deny-not-caregiver')
  if (facts.big?.verified !== true) return deny('deny-big-not-verified')
  if (!orgTypes.includes(request.principal.orgType)) return deny('deny-organisation-type')
  return undefined
}

/** P1 (consent), P2 (emergency), P3 (non-caregivers never), P6 (withdrawal is immediate). */
function decideDossierRead(request: AccessRequest, facts: Facts, now: Date): Decision {
  const gate = caregiverGate(request, facts)
  if (gate) return gate
  if (facts.patientExists !== true) return deny('deny-patient-unknown')

  // A custodian reads back a Bundle its own organisation uploaded (the Location of its create, a
  // vread): its own record, not a disclosure to another party, so no token and no minimisation.
  if (facts.uploadedByCaller === true && rel(facts).custodian) return permit('permit-own-record', 'DIRECT_TREATMENT')

  // Break-the-glass overrides the missing token, not the patient's own exclusions: what a consent
  // in force withholds from this recipient stays withheld in an emergency too.
  const excluded = () => emergencyExclusions(facts.consents ?? [], now)
  if (facts.emergencyReason !== undefined) {
    if (emergencyReasonLength(facts.emergencyReason) < EMERGENCY_REASON_MIN_LENGTH) return deny('deny-emergency-reason')
    return withholding(permit('permit-emergency', 'CONFLICT_OF_DUTIES', ['audit-break-glass', 'open-emergency-window', 'open-emergency-review']), excluded())
  }

  const token = facts.token
  if (token === undefined) {
    if (facts.emergencyWindowOpen === true) return withholding(permit('permit-emergency-window', 'CONFLICT_OF_DUTIES', ['audit-break-glass']), excluded())
    return deny('deny-no-consent-token')
  }
  if (!token.valid) return deny('deny-token-invalid')
  if (facts.patientId !== undefined && token.patientId !== facts.patientId) return deny('deny-token-other-patient', token.consentId)
  return decideByConsent(request, facts, token, 'handover', now)
}

function decideByConsent(
  request: AccessRequest,
  facts: Facts,
  token: Extract<TokenFact, { valid: true }>,
  purpose: Purpose,
  now: Date,
): Decision {
  if (token.expiresAt.getTime() <= now.getTime()) return deny('deny-token-invalid', token.consentId)
  if (token.purpose !== purpose) return deny('deny-token-purpose', token.consentId)
  if (token.recipient && !actorMatches(token.recipient, request.principal)) {
    return deny('deny-token-other-recipient', token.consentId)
  }
  const consents = facts.consents ?? []
  const consent = consents.find((c) => c.id === token.consentId)
  if (consent === undefined) return deny('deny-token-other-patient', token.consentId)
  if (consent.status !== 'active') return deny('deny-consent-not-active', consent.id)
  if (!inPeriod(consent.period, now)) return deny('deny-consent-period', consent.id)
  const effective = effectiveConsents(consents, now)
  if (!effective.some((c) => c.id === consent.id)) return deny('deny-consent-superseded', consent.id)

  const verdict = evaluateProvisions(effective, purpose, request.principal, now)
  if (verdict !== 'permit') return deny('deny-consent-provision', consent.id)
  return withholding(permit('permit-consent', 'EXPLICIT_CONSENT', [], consent.id), contentExclusions(effective, purpose, request.principal, now))
}

/**
 * Consents in force now: active, within their period, and given after the latest refusal or
 * withdrawal (a refusal or withdrawal beats any earlier consent). Oldest first.
 */
export function effectiveConsents(consents: readonly ConsentFact[], now: Date): ConsentFact[] {
  let lastNo = -Infinity
  for (const c of consents) {
    if (c.status === 'rejected') lastNo = Math.max(lastNo, c.recordedAt.getTime())
    if (c.status === 'inactive') lastNo = Math.max(lastNo, (c.withdrawnAt ?? c.recordedAt).getTime())
  }
  return consents
    .filter((c) => c.status === 'active' && c.recordedAt.getTime() > lastNo && inPeriod(c.period, now))
    .sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime())
}

/**
 * Precedence among the provisions of the consents in force: of the provisions that hold for this
 * purpose, recipient and time, the most specific wins (a named organisation or BIG number is more
 * specific than an organisation type, which is more specific than anyone); a deny beats a permit of
 * equal specificity. No holding provision: no permission.
 */
export function evaluateProvisions(
  consents: readonly ConsentFact[],
  purpose: string,
  principal: AccessRequest['principal'],
  now: Date,
): 'permit' | 'deny' | 'none' {
  let best = -1
  let verdict: 'permit' | 'deny' | 'none' = 'none'
  for (const consent of consents) {
    for (const provision of consent.provisions) {
      if (provision.content !== undefined) continue
      if (!inPeriod(provision.period, now)) continue
      if (provision.purposes.length > 0 && !provision.purposes.includes(purpose)) continue
      // A permit must name the purpose; a deny without purposes excludes every purpose.
      if (provision.type === 'permit' && provision.purposes.length === 0) continue
      const specificity = provisionSpecificity(provision, principal)
      if (specificity < 0) continue
      // A permit must name its recipients; "anyone" is never a permit of medical data.
      if (provision.type === 'permit' && provision.actors.length === 0) continue
      if (specificity > best || (specificity === best && provision.type === 'deny')) {
        best = specificity
        verdict = provision.type
      }
    }
  }
  return verdict
}

/**
 * What the consents in force exclude from a release for this purpose to this principal: the union
 * of every content-excluding deny that holds for them now (a restriction the patient asked for is
 * never outweighed by a broader permit).
 */
export function contentExclusions(
  consents: readonly ConsentFact[],
  purpose: string,
  principal: { org: string; orgType: string; big?: string | undefined },
  now: Date,
): ContentExclusion {
  return exclusionsOf(effectiveConsents(consents, now), purpose, principal, now)
}

/**
 * The exclusions an emergency read keeps. Break-the-glass overrides the missing token, not what the
 * patient asked to keep back: whatever the patient excluded for any recipient is withheld from
 * whoever breaks the glass (the reader is, by definition, not who the consent chose). With
 * consents in force, theirs; with none (withdrawn, or refused since), those of every consent the
 * patient ever gave, since a later "no" to sharing never widened an earlier "yes, but not this".
 */
export function emergencyExclusions(consents: readonly ConsentFact[], now: Date): ContentExclusion {
  const effective = effectiveConsents(consents, now)
  const source = effective.length > 0 ? effective : consents.filter((c) => c.status !== 'rejected')
  return exclusionsOf(source, 'handover', undefined, now, { ignorePeriods: effective.length === 0 })
}

/** `principal` undefined: the exclusions for any recipient. */
function exclusionsOf(
  consents: readonly ConsentFact[],
  purpose: string,
  principal: { org: string; orgType: string; big?: string | undefined } | undefined,
  now: Date,
  options: { ignorePeriods?: boolean } = {},
): ContentExclusion {
  const labels = new Set<string>()
  const classes = new Set<string>()
  for (const consent of consents) {
    for (const provision of consent.provisions) {
      if (provision.content === undefined) continue
      if (!options.ignorePeriods && !inPeriod(provision.period, now)) continue
      if (provision.purposes.length > 0 && !provision.purposes.includes(purpose)) continue
      if (principal && provision.actors.length > 0 && !provision.actors.some((a) => actorMatches(a, principal))) continue
      for (const l of provision.content.labels) labels.add(l)
      for (const c of provision.content.classes) classes.add(c)
    }
  }
  return { labels: [...labels].sort(), classes: [...classes].sort() }
}

/**
 * The content the consents in force exclude for every recipient they name for this purpose: what
 * nobody would ever receive, so storing it serves only the patient's own copy.
 */
export function excludedForEveryRecipient(consents: readonly ConsentFact[], purpose: string, now: Date): ContentExclusion {
  const recipients: Actor[] = []
  for (const consent of effectiveConsents(consents, now)) {
    for (const p of consent.provisions) {
      if (p.type === 'permit' && p.content === undefined && p.purposes.includes(purpose) && inPeriod(p.period, now)) recipients.push(...p.actors)
    }
  }
  if (recipients.length === 0) return { labels: [], classes: [] }
  const asPrincipal = (a: Actor) => ({ org: a.org ?? '', orgType: a.orgType ?? '', big: a.big })
  const each = recipients.map((a) => contentExclusions(consents, purpose, asPrincipal(a), now))
  const common = (pick: (e: ContentExclusion) => string[]) => pick(each[0]!).filter((x) => each.every((e) => pick(e).includes(x)))
  return { labels: common((e) => e.labels), classes: common((e) => e.classes) }
}

const withholding = (decision: Decision, exclusion: ContentExclusion): Decision =>
  exclusion.labels.length === 0 && exclusion.classes.length === 0
    ? decision
    : { ...decision, obligations: [...decision.obligations, 'withhold-content'], withhold: exclusion }

/** -1 when the provision does not hold for the principal; else how specifically it names it. */
function provisionSpecificity(provision: ProvisionFact, principal: AccessRequest['principal']): number {
  if (provision.actors.length === 0) return 0
  let best = -1
  for (const actor of provision.actors) {
    if (!actorMatches(actor, principal)) continue
    best = Math.max(best, actor.org !== undefined || actor.big !== undefined ? 2 : 1)
  }
  return best
}

export function actorMatches(actor: Actor, principal: { org: string; orgType: string; big?: string | undefined }): boolean {
  if (actor.big !== undefined) return principal.big === actor.big
  if (actor.org !== undefined) return principal.org === actor.org
  if (actor.orgType !== undefined) return principal.orgType === actor.orgType
  return false
}

export function inPeriod(period: Period | undefined, now: Date): boolean {
  if (!period) return true
  if (period.start && now.getTime() < period.start.getTime()) return false
  if (period.end && now.getTime() >= period.end.getTime()) return false
  return true
}
