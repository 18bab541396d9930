import { createHmac, randomUUID } from 'node:crypto'
import type { Parameters, Task } from '@medplum/fhirtypes'
import { SignJWT } from 'jose'
import type { AuditContext } from '../audit/audit.service.js'
import { findCurrentPerspective } from '../access/facts.js'
import type { Deps } from '../deps.js'
import { issue, OutcomeError } from '../fhir/outcome.js'
import { readPerspective } from '../perspective/perspective.service.js'
import { readTask } from '../tasks/task.service.js'
import { CARD_AUDIENCE, CARD_TYP, codesInWords, type CardClaims, type CardCode, type CodeInWords } from './card-token.js'

const OPEN = ['requested', 'accepted', 'in-progress', 'on-hold']

/** The longest a card may live: as long as a retired signing key keeps verifying (MAX_TOKEN_LIFETIME_MS). */
export const ESCORT_CARD_MAX_LIFETIME_MS = 30 * 24 * 3600_000

export interface EscortCard {
  token: string
  jti: string
  issuedAt: Date
  expiresAt: Date
  plannedDeparture: Date
  role: string
  words: CodeInWords[]
  safetyCriticalOnly: boolean
}

const conflict = (text: string) => new OutcomeError(409, [issue('business-rule', text)])

/** The perspective's flags as card codes: only what the release for this caller holds. */
function cardCodes(perspective: Parameters): CardCode[] {
  const codes: CardCode[] = []
  for (const p of perspective.parameter ?? []) {
    if (p.name !== 'flag') continue
    const code = p.part?.find((x) => x.name === 'code')?.valueCoding?.code
    if (!code) continue
    const value = p.part?.find((x) => x.name === 'value')?.valueCoding?.code
    const until = p.part?.find((x) => x.name === 'until')?.valueDateTime
    codes.push(value ? `${code}=${value}${until ? `@${until.slice(0, 10)}` : ''}` : code)
  }
  return codes
}

/**
 * `$escort-card` for a party of an open departure: the task read and the handelingsperspectief
 * read go through their own decisions (each audited); the card carries exactly what that release
 * gave this caller, signed, with an expiry shortly after the planned departure.
 */
export async function issueEscortCard(deps: Deps, ctx: AuditContext, taskId: string): Promise<EscortCard> {
  const { resource } = await readTask(deps, ctx, taskId)
  const task = resource as Task
  const code = task.code?.coding?.[0]?.code
  if (code !== 'departure' || !OPEN.includes(task.status ?? '')) throw conflict('An escort card is made only for an open departure')
  const start = task.executionPeriod?.start ? new Date(task.executionPeriod.start) : undefined
  if (!start || Number.isNaN(start.getTime())) throw conflict('The departure has no planned date; an escort card needs one')
  const patientId = task.for?.reference?.replace(/^Patient\//, '')
  if (!patientId) throw conflict('The departure names no patient')
  const perspective = await readPerspective(deps, ctx, { patientId })

  const now = deps.clock.now()
  const expiresAt = new Date(start.getTime() + deps.settings.escortCardGraceMs)
  if (expiresAt.getTime() <= now.getTime()) throw conflict('The planned departure has passed; an escort card can no longer be made')
  // Retired signing keys verify for 30 days (npm run keys:rotate): no card may outlive that.
  if (expiresAt.getTime() - now.getTime() > ESCORT_CARD_MAX_LIFETIME_MS) throw conflict('An escort card is made at most 30 days before the departure')
  const codes = cardCodes(perspective)
  const safetyCriticalOnly = perspective.parameter?.some((p) => p.name === 'disclosure' && p.valueCode === 'safety-critical-only') ?? false
  const jti = randomUUID()
  // A pseudonym of the patient for this service's cards: the same on every card, no way back to the person.
  const reference = createHmac('sha256', deps.auditKey).update(`escort-card|${patientId}`).digest('base64url').slice(0, 22)
  const claims: CardClaims = {
    task: taskId,
    role: ctx.principal.role,
    dep: Math.floor(start.getTime() / 1000),
    codes,
    ...(safetyCriticalOnly ? { sco: true } : {}),
  }
  const { kid, key } = await deps.consentKeys.signingKey()
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid, typ: CARD_TYP })
    .setIssuer(deps.settings.consentTokenIssuer)
    .setAudience(CARD_AUDIENCE)
    .setSubject(reference)
    .setJti(jti)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key)
  const current = await findCurrentPerspective(deps.db, patientId)
  await deps.db.insertInto('escort_card').values({
    jti,
    task_id: taskId,
    patient_id: patientId,
    org: ctx.principal.org,
    reviewed_at: current?.reviewed_at ?? null,
    issued_at: now,
    expires_at: expiresAt,
  }).execute()
  return { token, jti, issuedAt: now, expiresAt, plannedDeparture: start, role: ctx.principal.role, words: codesInWords(codes), safetyCriticalOnly }
}

export type CardStatus = 'valid' | 'revoked' | 'expired' | 'unknown'

/**
 * The online status of a card, for where a network exists: revoked when its departure is no longer
 * open, the patient's perspective was reviewed again since (a new card shows the new codes), or the
 * patient's data was erased. Says nothing else.
 */
export async function escortCardStatus(deps: Deps, jti: string): Promise<{ status: CardStatus; reason?: string }> {
  if (!/^[0-9a-f-]{36}$/.test(jti)) return { status: 'unknown' }
  const card = await deps.db.selectFrom('escort_card').selectAll().where('jti', '=', jti).executeTakeFirst()
  if (!card) return { status: 'unknown' }
  if (card.expires_at.getTime() <= deps.clock.now().getTime()) return { status: 'expired' }
  const task = await deps.db.selectFrom('task').select(['status', 'requester_org', 'owner_org', 'recipient_orgs']).where('id', '=', card.task_id).executeTakeFirst()
  if (!task || !OPEN.includes(task.status)) return { status: 'revoked', reason: 'departure-closed' }
  // The holder's organisation taken off the departure holds no card any more.
  if (![task.requester_org, task.owner_org, ...task.recipient_orgs].includes(card.org)) return { status: 'revoked', reason: 'no-longer-a-party' }
  // A consent withdrawn (or any consent recorded or changed) after the card was issued may change
  // what the holder may see (P6: withdrawal is immediate): the card is void; a new one says what holds now.
  const consent = await deps.db.selectFrom('consent').select((eb) => eb.fn.max('updated_at').as('at')).where('patient_id', '=', card.patient_id).executeTakeFirst()
  if (consent?.at && new Date(consent.at as unknown as string).getTime() > card.issued_at.getTime()) return { status: 'revoked', reason: 'consent-changed' }
  const patient = await deps.db.selectFrom('patient').select('erased_at').where('id', '=', card.patient_id).executeTakeFirst()
  if (!patient || patient.erased_at) return { status: 'revoked', reason: 'erased' }
  const current = await findCurrentPerspective(deps.db, card.patient_id)
  if ((current?.reviewed_at?.getTime() ?? null) !== (card.reviewed_at?.getTime() ?? null)) return { status: 'revoked', reason: 'perspective-changed' }
  return { status: 'valid' }
}
