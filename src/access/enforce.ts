import { BigRegisterUnavailableError } from '../big/big-register.js'
import type { Deps } from '../deps.js'
import { auditDecision, type AuditContext, type AuditEnv, type AuditSubject } from '../audit/audit.service.js'
import { OutcomeError, issue, notFound, serviceUnavailable } from '../fhir/outcome.js'
import type { Principal } from '../http/principal.js'
import type { Executor } from '../db/executor.js'
import { decide, type AccessRequest, type Action, type BigFact, type Decision, type Facts, type ReasonCode } from './policy.js'

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
export function denial(reason: ReasonCode, action: Action, problem?: string): OutcomeError {
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
      return forbidden('Your organisation has no care or handover relationship with this patient')
    case 'deny-other-organisation':
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
    case 'deny-big-unavailable':
      return serviceUnavailable('The BIG register cannot be reached to confirm your registration')
    default:
      return forbidden('Access denied')
  }
}

export const auditContext = (principal: Principal, requestId: string): AuditContext => ({ principal, requestId })
