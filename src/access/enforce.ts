import { BigRegisterUnavailableError } from '../big/big-register.js'
import type { Deps } from '../deps.js'
import { auditDecision, type AuditContext, type AuditEnv, type AuditSubject } from '../audit/audit.service.js'
import { OutcomeError, issue, notFound, serviceUnavailable } from '../fhir/outcome.js'
import type { Principal } from '../http/principal.js'
import type { Executor } from '../db/executor.js'
import { attemptGate, decide, type AccessRequest, type Action, type BigFact, type Decision, type Facts, type Purpose, type ReasonCode } from './policy.js'

type Subject = Omit<AuditSubject, 'action' | 'decision'>

export interface Gathered<G> {
  facts: Facts
  /** What the audit entry names (patient, resource), for a deny and a permit alike. */
  subject: Subject
  /** Whatever the act needs of what was gathered. */
  data: G
  /** What was wrong with a presented token, for the audit entry and the answer. */
  problem?: string
  /** FHIRPath expressions the answer to a deny names (the entries an intake refusal is about). */
  expression?: string[]
}

export interface DecisionSpec<G, R> {
  action: Action
  purpose?: Purpose
  /** Gathers the facts, inside the transaction (take the locks the act relies on here). */
  gather(db: Executor): Promise<Gathered<G>>
  /** Acts on a permit, inside the same transaction; may add to the audit entry. */
  act(db: Executor, decision: Decision, data: G, facts: Facts): Promise<{ result: R; audit?: Partial<Subject> }>
  /**
   * A read that writes nothing but its audit entry: no transaction is opened, and the entry joins
   * the audit log's group commit (committed before the answer goes out).
   */
  readOnly?: boolean
}

/**
 * Refuses, audited, a caller whose role and organisation type can never be permitted `action`,
 * before the request body is read. Everyone else goes on to `withDecision`, which decides on all
 * the facts.
 */
export async function refuseUnlessMayAttempt(deps: Deps, ctx: AuditContext, action: Action, subject: Subject): Promise<void> {
  const big = await caregiverFact(deps, ctx, action)
  const decision = attemptGate({ principal: ctx.principal, action }, { ...(big ? { big } : {}) })
  if (!decision) return
  await auditDecision(deps.db, deps, ctx, { ...subject, action, decision, detail: { ...(subject.detail ?? {}), refused: 'before-body' } })
  throw denial(decision.reason, action)
}

/**
 * The one enforcement path: asks the BIG register about a caregiver, gathers the facts, calls
 * `decide()`, audits the decision and acts, in one transaction. A deny commits its audit entry and
 * nothing else, and is thrown after the commit. No service acts on a patient any other way.
 */
export async function withDecision<G, R>(deps: Deps, ctx: AuditContext, spec: DecisionSpec<G, R>): Promise<R> {
  const big = await caregiverFact(deps, ctx, spec.action)
  const request: AccessRequest = { principal: ctx.principal, action: spec.action, ...(spec.purpose ? { purpose: spec.purpose } : {}) }
  const run = async (db: Executor) => {
    const gathered = await spec.gather(db)
    const facts: Facts = { ...gathered.facts, ...(big ? { big } : {}) }
    const decision = decide(request, facts, deps.clock.now())
    const entry = { ...gathered.subject, ...(spec.purpose ? { purpose: spec.purpose } : {}), action: spec.action, decision }
    if (decision.effect === 'deny') {
      const detail = gathered.problem ? { ...(gathered.subject.detail ?? {}), problem: gathered.problem } : gathered.subject.detail
      await auditDecision(db, deps, ctx, { ...entry, ...(detail ? { detail } : {}) })
      return { denied: denial(decision.reason, spec.action, gathered.problem, gathered.expression) }
    }
    const { result, audit } = await spec.act(db, decision, gathered.data, facts)
    const detail = audit?.detail || gathered.subject.detail ? { ...(gathered.subject.detail ?? {}), ...(audit?.detail ?? {}) } : undefined
    await auditDecision(db, deps, ctx, { ...entry, ...audit, ...(detail ? { detail } : {}) })
    return { result }
  }
  const outcome = spec.readOnly ? await run(deps.db) : await deps.db.transaction().execute(run)
  if ('denied' in outcome) throw outcome.denied
  return outcome.result
}

/**
 * Asks the BIG register about a caller who claims to be a caregiver. Fails closed: when the
 * register cannot answer and nothing is cached, the request ends in 503, and that is audited.
 */
export async function caregiverFact(deps: Deps, ctx: AuditContext, action: Action): Promise<BigFact | undefined> {
  const { principal } = ctx
  if (principal.role !== 'caregiver' || principal.big === undefined) return undefined
  try {
    const verification = await deps.bigVerifier.verify(principal.big)
    return { verified: verification.verified, ...(verification.profession ? { profession: verification.profession } : {}) }
  } catch (err) {
    if (!(err instanceof BigRegisterUnavailableError)) throw err
    const decision: Decision = { effect: 'deny', reason: 'deny-big-unavailable', legalBasis: undefined, obligations: [] }
    await auditDecision(deps.db, deps, ctx, { action, decision })
    throw serviceUnavailable('The BIG register cannot be reached to confirm your registration; try again shortly')
  }
}

/**
 * Decides, and on a deny writes the audit row and throws the answer for the caller. On a permit
 * the caller audits inside the transaction that acts on it.
 */
export async function decideOrDeny(
  db: Executor,
  env: AuditEnv,
  ctx: AuditContext,
  request: AccessRequest,
  facts: Facts,
  subject: Omit<AuditSubject, 'action' | 'decision'>,
  problem?: string,
): Promise<Decision> {
  const decision = decide(request, facts, env.clock.now())
  if (decision.effect === 'permit') return decision
  await auditDecision(db, env, ctx, {
    ...subject,
    action: request.action,
    decision,
    ...(problem ? { detail: { ...(subject.detail ?? {}), problem } } : {}),
  })
  throw denial(decision.reason, request.action, problem)
}

const HIDDEN_ACTIONS: readonly Action[] = ['dossier.read', 'perspective.read']

/** The answer for a deny. The reason code itself stays in the audit log. */
export function denial(reason: ReasonCode, action: Action, problem?: string, expression?: string[]): OutcomeError {
  const forbidden = (text: string) => new OutcomeError(403, [issue('forbidden', text)])
  const security = (text: string) => new OutcomeError(403, [issue('security', text)])
  switch (reason) {
    case 'deny-not-caregiver':
      if (HIDDEN_ACTIONS.includes(action)) return notFound()
      return forbidden('Only caregivers may do this')
    case 'deny-no-task':
    case 'deny-patient-unknown':
      return notFound()
    case 'deny-big-not-verified':
      return forbidden(
        'The BIG register does not confirm a current registration in a profession allowed to receive medical data',
      )
    case 'deny-no-relationship':
      // Unknown and unrelated patients look the same.
      if (action === 'patient.read') return notFound()
      if (action === 'dossier.upload') {
        return forbidden(
          'Your organisation is not the custodian of this patient here. Record the patient\'s consent or refusal first, ' +
            'or ask the custodian to transfer the patient. Without consent: Give the dossier to the patient and record a ' +
            'phone handover between caregivers on the task (Task.output handover-method = phone-handover).',
        )
      }
      return forbidden('Your organisation has no care or handover relationship with this patient')
    case 'deny-other-organisation':
      // Another organisation's subscription: as if there were none.
      if (action === 'subscription.read' || action === 'subscription.delete') return notFound()
      return forbidden('This belongs to another organisation')
    case 'deny-task-not-allowed':
      return forbidden('Your role may not create or change this task')
    case 'deny-organisation-type':
      return forbidden('Your organisation type may not do this')
    case 'deny-not-privacy-officer':
      return forbidden('Only a privacy officer may do this')
    case 'deny-no-consent-token':
      return forbidden(
        'A consent token for this patient is required in X-Consent-Token (or emergency access with X-Emergency-Reason)',
      )
    case 'deny-token-invalid':
      return security(problem ?? 'Consent token is not valid')
    case 'deny-token-other-patient':
      return security('Consent token is for another patient')
    case 'deny-token-other-recipient':
      return security('Consent token was issued to another recipient')
    case 'deny-token-purpose':
      return security('Consent token was issued for another purpose')
    case 'deny-consent-not-active':
      return security('The consent behind this token has been withdrawn or was refused')
    case 'deny-consent-superseded':
      return security('The consent behind this token has been superseded by a later refusal or withdrawal')
    case 'deny-consent-period':
      return security('The consent behind this token is outside its period')
    case 'deny-consent-provision':
      return security("The patient's consent does not name your organisation for this purpose")
    case 'deny-no-consent':
      return new OutcomeError(403, [
        issue(
          'forbidden',
          'There is no active consent for handover for this patient, so the dossier cannot be made available. ' +
            'Give the dossier to the patient and record a phone handover between caregivers on the task ' +
            '(Task.output handover-method = phone-handover).',
        ),
      ])
    case 'deny-emergency-reason':
      return new OutcomeError(400, [
        issue('invalid', 'X-Emergency-Reason must state the reason in at least 20 characters', ['X-Emergency-Reason']),
      ])
    case 'deny-content-excluded':
      return new OutcomeError(
        422,
        (expression ?? []).map((path) =>
          issue(
            'business-rule',
            "This entry holds content that the patient's consent excludes for every recipient, so nobody could receive it. " +
              "Leave it out of the upload, or upload again with ?own-copy=true to confirm it must be stored for the patient's own copy.",
            [path],
          ),
        ),
      )
    case 'deny-big-unavailable':
      return serviceUnavailable('The BIG register cannot be reached to confirm your registration')
    default:
      return forbidden('Access denied')
  }
}

export const auditContext = (principal: Principal, requestId: string): AuditContext => ({ principal, requestId })
