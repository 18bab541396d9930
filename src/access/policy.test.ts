import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ORG_TYPES, ROLES } from '../http/principal.js'
import {
  NO_RELATIONSHIP,
  attemptGate,
  decide,
  effectiveConsents,
  type AccessRequest,
  type Action,
  type ConsentFact,
  type Facts,
  type ProvisionFact,
  type RelationshipFact,
  type TokenFact,
} from './policy.js'

const related = (over: Partial<RelationshipFact>): RelationshipFact => ({ ...NO_RELATIONSHIP, patientHasCustodian: true, ...over })
const custodian = related({ custodian: true, everCustodian: true })
const taskParty = related({ taskParty: true })

const NOW = new Date('2026-11-24T09:00:00Z')
const HOUR = 3600_000
const at = (offsetHours: number) => new Date(NOW.getTime() + offsetHours * HOUR)

const escortNurse: AccessRequest['principal'] = { role: 'caregiver', org: 'ura-escort', orgType: 'medical-escort', big: '01000000330' }
const gzaDoctor: AccessRequest['principal'] = { role: 'caregiver', org: 'ura-gza', orgType: 'gza', big: '91000000101' }
const regievoerder: AccessRequest['principal'] = { role: 'regievoerder', org: 'ura-dtv', orgType: 'dtv', big: undefined }

const permitHandover = (actors: ProvisionFact['actors'], extra: Partial<ProvisionFact> = {}): ProvisionFact => ({
  type: 'permit',
  purposes: ['handover'],
  actors,
  ...extra,
})

const consent = (over: Partial<ConsentFact> = {}): ConsentFact => ({
  id: 'c1',
  status: 'active',
  recordedAt: at(-24),
  provisions: [permitHandover([{ orgType: 'medical-escort' }])],
  ...over,
})

const token = (over: Partial<Extract<TokenFact, { valid: true }>> = {}): TokenFact => ({
  valid: true,
  consentId: 'c1',
  patientId: 'p1',
  purpose: 'handover',
  expiresAt: at(8),
  ...over,
})

const read = (principal = escortNurse): AccessRequest => ({ principal, action: 'dossier.read', purpose: 'handover' })
const facts = (over: Facts = {}): Facts => factsOf(over)
const factsOf = (over: Facts = {}): Facts => ({
  big: { verified: true },
  patientExists: true,
  patientId: 'p1',
  consents: [consent()],
  token: token(),
  ...over,
})

describe('P1 dossier read with consent', () => {
  it('a verified caregiver with a valid token under active consent naming its organisation type is permitted on explicit consent', () => {
    expect(decide(read(), facts(), NOW)).toMatchObject({ effect: 'permit', reason: 'permit-consent', legalBasis: 'EXPLICIT_CONSENT', consentId: 'c1' })
  })
  it('a consent naming the organisation by identifier permits that organisation', () => {
    const f = facts({ consents: [consent({ provisions: [permitHandover([{ org: 'ura-escort' }])] })] })
    expect(decide(read(), f, NOW).effect).toBe('permit')
  })
  it('a consent naming the caregiver by BIG number permits that caregiver', () => {
    const f = facts({ consents: [consent({ provisions: [permitHandover([{ big: '01000000330' }])] })] })
    expect(decide(read(), f, NOW).effect).toBe('permit')
  })
  it('a consent that does not name the caller organisation is a deny', () => {
    const f = facts({ consents: [consent({ provisions: [permitHandover([{ orgType: 'dji-medical' }])] })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-provision')
  })
  it('a consent permitting only action-perspective does not release the dossier', () => {
    const f = facts({ consents: [consent({ provisions: [{ type: 'permit', purposes: ['action-perspective'], actors: [{ orgType: 'medical-escort' }] }] })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-provision')
  })
  it('a permit provision without named recipients releases nothing', () => {
    const f = facts({ consents: [consent({ provisions: [permitHandover([])] })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-provision')
  })
  it('no token is a deny asking for one', () => {
    expect(decide(read(), facts({ token: undefined }), NOW).reason).toBe('deny-no-consent-token')
  })
  it('an invalid token (bad signature, expired, wrong type) is a deny', () => {
    expect(decide(read(), facts({ token: { valid: false, problem: 'x' } }), NOW).reason).toBe('deny-token-invalid')
  })
  it('a token past its expiry is a deny even if its signature checked out', () => {
    expect(decide(read(), facts({ token: token({ expiresAt: at(-1) }) }), NOW).reason).toBe('deny-token-invalid')
  })
  it("another patient's token is a deny", () => {
    expect(decide(read(), facts({ token: token({ patientId: 'p2' }) }), NOW).reason).toBe('deny-token-other-patient')
  })
  it('a token for a consent of another patient is a deny', () => {
    expect(decide(read(), facts({ token: token({ consentId: 'other' }) }), NOW).reason).toBe('deny-token-other-patient')
  })
  it('a token issued to another recipient is a deny', () => {
    expect(decide(read(), facts({ token: token({ recipient: { org: 'ura-other' } }) }), NOW).reason).toBe('deny-token-other-recipient')
  })
  it('a token issued to the caller BIG number is a permit', () => {
    expect(decide(read(), facts({ token: token({ recipient: { big: '01000000330' } }) }), NOW).effect).toBe('permit')
  })
  it('a token for another purpose is a deny', () => {
    expect(decide(read(), facts({ token: token({ purpose: 'action-perspective' }) }), NOW).reason).toBe('deny-token-purpose')
  })
  it('a consent outside its period is a deny', () => {
    const f = facts({ consents: [consent({ period: { end: at(-1) } })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-period')
  })
  it('a consent whose period has not started is a deny', () => {
    const f = facts({ consents: [consent({ period: { start: at(1) } })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-period')
  })
  it('a provision outside its own period does not permit', () => {
    const f = facts({ consents: [consent({ provisions: [permitHandover([{ orgType: 'medical-escort' }], { period: { end: at(-1) } })] })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-provision')
  })
  it('an unknown patient is a deny', () => {
    expect(decide(read(), facts({ patientExists: false }), NOW).reason).toBe('deny-patient-unknown')
  })
})

describe('reading back one\'s own upload', () => {
  it('the organisation that uploaded a Bundle reads it by id without a token while it is custodian: its own record', () => {
    const d = decide(read(), facts({ token: undefined, uploadedByCaller: true, relationship: related({ custodian: true }) }), NOW)
    expect(d).toMatchObject({ effect: 'permit', reason: 'permit-own-record', legalBasis: 'DIRECT_TREATMENT' })
    expect(d.obligations).not.toContain('withhold-content')
  })
  it('the uploader whose custody has ended, or a receiver that did not upload it, needs a token like anyone', () => {
    expect(decide(read(), facts({ token: undefined, uploadedByCaller: true, relationship: related({ everCustodian: true }) }), NOW).reason).toBe('deny-no-consent-token')
    expect(decide(read(), facts({ token: undefined, uploadedByCaller: false, relationship: related({ custodian: true }) }), NOW).reason).toBe('deny-no-consent-token')
  })
  it('an uploader who is no caregiver in the BIG register reads nothing back', () => {
    expect(decide(read(), facts({ big: { verified: false }, uploadedByCaller: true, relationship: related({ custodian: true }) }), NOW).effect).toBe('deny')
  })
})

describe('BIG register is the source of the caregiver role', () => {
  it('a caregiver role claim without BIG verification is a deny even with a valid token', () => {
    expect(decide(read(), facts({ big: { verified: false } }), NOW).reason).toBe('deny-big-not-verified')
  })
  it('a caregiver role claim with no BIG answer at all is a deny', () => {
    expect(decide(read(), facts({ big: undefined }), NOW).reason).toBe('deny-big-not-verified')
  })
})

describe('P2 emergency access', () => {
  it('a verified caregiver with a reason of at least 20 characters is permitted on conflict of duties, break-the-glass and reviewed', () => {
    const d = decide(read(), facts({ token: undefined, emergencyReason: 'Patient collapsed at the gate, needs meds' }), NOW)
    expect(d).toMatchObject({ effect: 'permit', reason: 'permit-emergency', legalBasis: 'CONFLICT_OF_DUTIES' })
    expect(d.obligations).toEqual(expect.arrayContaining(['audit-break-glass', 'open-emergency-window', 'open-emergency-review']))
  })
  it('a reason of 19 characters is a deny', () => {
    expect(decide(read(), facts({ token: undefined, emergencyReason: 'x'.repeat(19) }), NOW).reason).toBe('deny-emergency-reason')
  })
  it('a reason of 20 spaces is a deny', () => {
    expect(decide(read(), facts({ token: undefined, emergencyReason: ' '.repeat(25) }), NOW).reason).toBe('deny-emergency-reason')
  })
  it('an open emergency window lets the same caller read again without a token, audited as break-the-glass', () => {
    const d = decide(read(), facts({ token: undefined, emergencyWindowOpen: true }), NOW)
    expect(d).toMatchObject({ effect: 'permit', reason: 'permit-emergency-window' })
    expect(d.obligations).toContain('audit-break-glass')
  })
  it('emergency access is never open to a non-caregiver', () => {
    expect(decide(read(regievoerder), facts({ emergencyReason: 'a long enough reason for access here' }), NOW).effect).toBe('deny')
  })
  it('emergency access is never open to a caregiver the BIG register does not confirm', () => {
    const d = decide(read(), facts({ big: { verified: false }, emergencyReason: 'a long enough reason for access here' }), NOW)
    expect(d.reason).toBe('deny-big-not-verified')
  })
})

describe('P3 non-caregivers never read dossiers', () => {
  it.each(['regievoerder', 'escort', 'casemanager', 'privacy-officer'] as const)('a %s with a valid token is a deny', (role) => {
    const d = decide(read({ role, org: 'ura-escort', orgType: 'medical-escort', big: '01000000330' }), facts(), NOW)
    expect(d.reason).toBe('deny-not-caregiver')
  })
})

describe('P5 availability needs consent', () => {
  const upload = (principal = gzaDoctor): AccessRequest => ({ principal, action: 'dossier.upload' })
  const facts = (over: Facts = {}): Facts => ({ ...factsOf(over), relationship: custodian, ...over })
  it('upload by a custodian with active consent for handover is permitted', () => {
    expect(decide(upload(), facts(), NOW)).toMatchObject({ effect: 'permit', legalBasis: 'EXPLICIT_CONSENT' })
  })
  it('upload by a care organisation that is not the custodian is refused, consent or not', () => {
    for (const relationship of [taskParty, related({ receiver: true }), related({ everCustodian: true }), NO_RELATIONSHIP]) {
      expect(decide(upload(), facts({ relationship }), NOW).reason).toBe('deny-no-relationship')
    }
  })
  it('upload without any consent is a deny', () => {
    expect(decide(upload(), facts({ consents: [] }), NOW).reason).toBe('deny-no-consent')
  })
  it('upload after a refusal is a deny', () => {
    expect(decide(upload(), facts({ consents: [consent({ status: 'rejected', provisions: [] })] }), NOW).reason).toBe('deny-no-consent')
  })
  it('upload with consent only for action-perspective is a deny', () => {
    const f = facts({ consents: [consent({ provisions: [{ type: 'permit', purposes: ['action-perspective'], actors: [{ orgType: 'dtv' }] }] })] })
    expect(decide(upload(), f, NOW).reason).toBe('deny-no-consent')
  })
  it('upload by an escort caregiver is a deny (escorts read, sources upload)', () => {
    expect(decide(upload(escortNurse), facts(), NOW).reason).toBe('deny-organisation-type')
  })
  it('upload by a non-caregiver is a deny', () => {
    expect(decide(upload(regievoerder), facts(), NOW).reason).toBe('deny-not-caregiver')
  })
})

describe('P6 withdrawal is immediate', () => {
  it('a token under a withdrawn consent is a deny', () => {
    const f = facts({ consents: [consent({ status: 'inactive', withdrawnAt: at(-1) })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-not-active')
  })
  it('a token under a refused consent is a deny', () => {
    expect(decide(read(), facts({ consents: [consent({ status: 'rejected' })] }), NOW).reason).toBe('deny-consent-not-active')
  })
})

describe('precedence', () => {
  it('the more specific provision wins: a deny for the organisation beats a permit for its type', () => {
    const f = facts({
      consents: [consent({ provisions: [permitHandover([{ orgType: 'medical-escort' }]), { type: 'deny', purposes: ['handover'], actors: [{ org: 'ura-escort' }] }] })],
    })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-provision')
  })
  it('the more specific provision wins: a permit for the organisation beats a deny for its type', () => {
    const f = facts({
      consents: [consent({ provisions: [permitHandover([{ org: 'ura-escort' }]), { type: 'deny', purposes: ['handover'], actors: [{ orgType: 'medical-escort' }] }] })],
    })
    expect(decide(read(), f, NOW).effect).toBe('permit')
  })
  it('a deny beats a permit of equal specificity', () => {
    const f = facts({
      consents: [consent({ provisions: [permitHandover([{ orgType: 'medical-escort' }]), { type: 'deny', purposes: ['handover'], actors: [{ orgType: 'medical-escort' }] }] })],
    })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-provision')
  })
  it('a deny without recipients or purposes excludes everyone, but a named permit is more specific', () => {
    const f = facts({ consents: [consent({ provisions: [permitHandover([{ orgType: 'medical-escort' }]), { type: 'deny', purposes: [], actors: [] }] })] })
    expect(decide(read(), f, NOW).effect).toBe('permit')
  })
  it('a deny in a second consent beats a permit of equal specificity in the first', () => {
    const f = facts({
      consents: [
        consent(),
        consent({ id: 'c2', recordedAt: at(-2), provisions: [{ type: 'deny', purposes: ['handover'], actors: [{ orgType: 'medical-escort' }] }] }),
      ],
    })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-provision')
  })
  it('a refusal beats any earlier consent', () => {
    const f = facts({ consents: [consent(), consent({ id: 'c2', status: 'rejected', recordedAt: at(-2), provisions: [] })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-superseded')
  })
  it('a withdrawal of one consent beats every consent given before it', () => {
    const f = facts({ consents: [consent(), consent({ id: 'c2', status: 'inactive', recordedAt: at(-30), withdrawnAt: at(-1) })] })
    expect(decide(read(), f, NOW).reason).toBe('deny-consent-superseded')
  })
  it('a consent given after a refusal is in force', () => {
    const f = facts({ consents: [consent({ id: 'c0', status: 'rejected', recordedAt: at(-48), provisions: [] }), consent()] })
    expect(decide(read(), f, NOW).effect).toBe('permit')
  })
  it('effectiveConsents orders the consents in force oldest first and drops superseded ones', () => {
    const list = [consent({ id: 'b', recordedAt: at(-5) }), consent({ id: 'x', status: 'rejected', recordedAt: at(-10) }), consent({ id: 'a', recordedAt: at(-8) }), consent({ id: 'old', recordedAt: at(-20) })]
    expect(effectiveConsents(list, NOW).map((c) => c.id)).toEqual(['a', 'b'])
  })
})

describe('P4 action flags', () => {
  const perspective = (principal: AccessRequest['principal']): AccessRequest => ({ principal, action: 'perspective.read', purpose: 'action-perspective' })
  const withPerspectiveConsent = consent({ provisions: [{ type: 'permit', purposes: ['action-perspective'], actors: [{ orgType: 'dtv' }] }] })
  it('a regievoerder with an open task and consent for action-perspective sees its role column on explicit consent', () => {
    const d = decide(perspective(regievoerder), { patientExists: true, relationship: taskParty, consents: [withPerspectiveConsent] }, NOW)
    expect(d).toMatchObject({ effect: 'permit', reason: 'permit-consent', legalBasis: 'EXPLICIT_CONSENT' })
  })
  it('without that consent it sees only safety-critical codes with a recorded legal ground', () => {
    const d = decide(perspective(regievoerder), { patientExists: true, relationship: taskParty, consents: [consent()], recordedLegalGround: 'CONFLICT_OF_DUTIES' }, NOW)
    expect(d).toMatchObject({ effect: 'permit', reason: 'permit-safety-critical-only', legalBasis: 'CONFLICT_OF_DUTIES' })
    expect(d.obligations).toContain('safety-critical-only')
  })
  it('a withdrawn action-perspective consent falls back to safety-critical codes only', () => {
    const withdrawn = { ...withPerspectiveConsent, status: 'inactive' as const, withdrawnAt: at(-1) }
    expect(decide(perspective(regievoerder), { patientExists: true, relationship: taskParty, consents: [withdrawn] }, NOW).reason).toBe('permit-safety-critical-only')
  })
  it('without an open task naming its organisation a non-caregiver is refused', () => {
    expect(decide(perspective(regievoerder), { patientExists: true, relationship: related({}), consents: [withPerspectiveConsent] }, NOW).reason).toBe('deny-no-task')
  })
  it('a caregiver of a custodian, a receiver or a task party sees all codes; one with no relationship is refused', () => {
    for (const relationship of [custodian, related({ receiver: true }), taskParty]) {
      expect(decide(perspective(gzaDoctor), { big: { verified: true }, patientExists: true, relationship }, NOW).reason).toBe('permit-caregiver')
    }
    expect(decide(perspective(gzaDoctor), { big: { verified: true }, patientExists: true, relationship: related({ everCustodian: true }) }, NOW).reason).toBe('deny-no-relationship')
  })
  it('a privacy officer has no handelingsperspectief', () => {
    expect(decide(perspective({ ...regievoerder, role: 'privacy-officer' }), { patientExists: true, relationship: taskParty }, NOW).effect).toBe('deny')
  })
})

describe('tasks', () => {
  it('a DT&V regievoerder announces departures and cases, not transfers', () => {
    const create = (taskCode: 'transfer' | 'departure' | 'case') => decide({ principal: regievoerder, action: 'task.create' }, { taskCode, taskAuthority: true }, NOW).effect
    expect([create('departure'), create('case'), create('transfer')]).toEqual(['permit', 'permit', 'deny'])
  })
  it('a patient known only through a task is claimed by the first consent of a care organisation that task names, of no other', () => {
    const record = (relationship: RelationshipFact) =>
      decide({ principal: gzaDoctor, action: 'consent.record' }, { big: { verified: true }, patientExists: true, relationship }, NOW).reason
    expect(record({ ...NO_RELATIONSHIP, taskParty: true })).toBe('permit-caregiver')
    expect(record(NO_RELATIONSHIP)).toBe('deny-no-relationship')
  })
  it('a regievoerder of an organisation that is not a configured departure authority announces nothing', () => {
    expect(decide({ principal: regievoerder, action: 'task.create' }, { taskCode: 'case', taskAuthority: false }, NOW).reason).toBe('deny-task-not-allowed')
  })
  it('a caregiver announces a transfer only of a patient its organisation is custodian of, and never a departure', () => {
    const create = (taskCode: 'transfer' | 'departure' | 'case', relationship: RelationshipFact) =>
      decide({ principal: gzaDoctor, action: 'task.create' }, { big: { verified: true }, patientExists: true, taskCode, relationship }, NOW).reason
    expect(create('transfer', custodian)).toBe('permit-caregiver')
    expect(create('transfer', taskParty)).toBe('deny-no-relationship')
    expect(create('departure', custodian)).toBe('deny-task-not-allowed')
  })
  it('only the requester moves the planned date', () => {
    expect(decide({ principal: regievoerder, action: 'task.update' }, { taskParty: 'owner', changesPlan: true }, NOW).reason).toBe('deny-task-not-allowed')
    expect(decide({ principal: regievoerder, action: 'task.update' }, { taskParty: 'requester', changesPlan: true }, NOW).effect).toBe('permit')
  })
  it('an extra recipient may read a task but not change it; only the requester changes recipients', () => {
    expect(decide({ principal: regievoerder, action: 'task.read' }, { taskParty: 'recipient' }, NOW).effect).toBe('permit')
    expect(decide({ principal: regievoerder, action: 'task.update' }, { taskParty: 'recipient' }, NOW).effect).toBe('deny')
    expect(decide({ principal: regievoerder, action: 'task.update' }, { taskParty: 'owner', changesRecipients: true }, NOW).effect).toBe('deny')
    expect(decide({ principal: regievoerder, action: 'task.update' }, { taskParty: 'requester', changesRecipients: true }, NOW).effect).toBe('permit')
  })
})

describe('privacy officer and other actions', () => {
  it('only a privacy officer reads the audit log', () => {
    expect(decide({ principal: gzaDoctor, action: 'audit.read' }, facts({ relationship: custodian }), NOW).reason).toBe('deny-not-privacy-officer')
  })
  it('a privacy officer reads the log of patients its organisation is or was custodian of, and erases only as current custodian', () => {
    for (const relationship of [custodian, related({ everCustodian: true })]) {
      expect(decide({ principal: { ...gzaDoctor, role: 'privacy-officer' }, action: 'audit.read' }, { relationship }, NOW).effect).toBe('permit')
    }
    expect(decide({ principal: { ...gzaDoctor, role: 'privacy-officer' }, action: 'patient.erase' }, { relationship: custodian }, NOW).effect).toBe('permit')
    expect(decide({ principal: { ...gzaDoctor, role: 'privacy-officer' }, action: 'patient.erase' }, { relationship: related({ everCustodian: true }) }, NOW).reason).toBe('deny-no-relationship')
  })
  it('a privacy officer of a task party or a receiver, never custodian, is refused the log and erasure', () => {
    for (const action of ['audit.read', 'patient.erase'] as const) {
      for (const relationship of [taskParty, related({ receiver: true }), related({})]) {
        expect(decide({ principal: { ...gzaDoctor, role: 'privacy-officer' }, action }, { relationship }, NOW).reason).toBe('deny-no-relationship')
      }
    }
  })
  it('a privacy officer of a non-care organisation (DT&V) is refused the log, whatever its relationships', () => {
    expect(decide({ principal: { ...regievoerder, role: 'privacy-officer' }, action: 'audit.read' }, { relationship: custodian }, NOW).reason).toBe('deny-organisation-type')
  })
  it('consent records and tokens are for caregivers of a custodian only', () => {
    for (const action of ['consent.read', 'consent.withdraw', 'consent.token'] as const) {
      expect(decide({ principal: gzaDoctor, action }, facts({ relationship: custodian }), NOW).effect).toBe('permit')
      for (const relationship of [taskParty, related({ receiver: true }), related({ everCustodian: true })]) {
        expect(decide({ principal: gzaDoctor, action }, facts({ relationship }), NOW).reason).toBe('deny-no-relationship')
      }
    }
  })
  it('the first care organisation records a consent for a patient without custodian; after that only custodians', () => {
    const record = (relationship: RelationshipFact) => decide({ principal: gzaDoctor, action: 'consent.record' }, { big: { verified: true }, relationship }, NOW).reason
    expect(record(NO_RELATIONSHIP)).toBe('permit-caregiver')
    expect(record(custodian)).toBe('permit-caregiver')
    expect(record(related({}))).toBe('deny-no-relationship')
    expect(record(taskParty)).toBe('deny-no-relationship')
  })
  it('a "caregiver" of a non-care organisation is no caregiver, even with a registered BIG number', () => {
    for (const orgType of ['kmar', 'dvo', 'dtv', 'coa'] as const) {
      const principal = { ...gzaDoctor, orgType }
      expect(decide({ principal, action: 'dossier.read', purpose: 'handover' }, facts({ emergencyReason: 'Patient bewusteloos aangetroffen bij de poort' }), NOW).reason).toBe('deny-not-caregiver')
      expect(decide({ principal, action: 'dossier.read', purpose: 'handover' }, facts(), NOW).reason).toBe('deny-not-caregiver')
    }
  })
  it('an emergency reason counts letters and digits: zero-width spaces, combining marks and punctuation do not count', () => {
    const reason = (text: string) => decide(read(), facts({ token: undefined, emergencyReason: text }), NOW).reason
    expect(reason('\u200b'.repeat(25))).toBe('deny-emergency-reason')
    expect(reason('a\u0301'.repeat(19) + '!!!!!!')).toBe('deny-emergency-reason')
    expect(reason('Bewusteloos, geen aanspreekbare patiënt')).toBe('permit-emergency')
    expect(reason('患者意識不明で緊急の処置が必要です至急対応してください')).toBe('permit-emergency')
  })
  it('the upload gate refuses before the body is read every caller but a verified caregiver of a GZA or DJI', () => {
    const gate = (principal: AccessRequest['principal'], verified = true) => attemptGate({ principal, action: 'dossier.upload' }, { big: { verified } })?.reason
    expect(gate(gzaDoctor)).toBeUndefined()
    expect(gate(gzaDoctor, false)).toBe('deny-big-not-verified')
    expect(gate(escortNurse)).toBe('deny-organisation-type')
    expect(gate(regievoerder)).toBe('deny-not-caregiver')
    expect(gate({ ...gzaDoctor, orgType: 'kmar' })).toBe('deny-not-caregiver')
  })
  it('an emergency review is closed by a privacy officer of the patient\'s current custodian only', () => {
    const close = (relationship: RelationshipFact) =>
      decide({ principal: { ...gzaDoctor, role: 'privacy-officer' }, action: 'emergency.review' }, { patientExists: true, relationship }, NOW).reason
    expect(close(custodian)).toBe('permit-privacy-officer')
    expect(close(related({ everCustodian: true }))).toBe('deny-other-organisation')
    expect(close(taskParty)).toBe('deny-other-organisation')
    expect(close(related({}))).toBe('deny-other-organisation')
  })
  it('recording consent needs a verified caregiver of a source organisation', () => {
    expect(decide({ principal: gzaDoctor, action: 'consent.record' }, facts({ patientExists: false }), NOW).effect).toBe('permit')
    expect(decide({ principal: escortNurse, action: 'consent.record' }, facts(), NOW).reason).toBe('deny-organisation-type')
    expect(decide({ principal: gzaDoctor, action: 'consent.record' }, facts({ big: { verified: false } }), NOW).reason).toBe('deny-big-not-verified')
  })
})

// Arbitraries for the property test: any request, any facts.
const arbDate = fc.integer({ min: -1000, max: 1000 }).map((h) => at(h))
const arbActor = fc.oneof(
  fc.record({ org: fc.constantFrom('ura-escort', 'ura-dtv', 'ura-x') }),
  fc.record({ orgType: fc.constantFrom(...ORG_TYPES) }),
  fc.record({ big: fc.constantFrom('01000000330', '91000000101') }),
)
const arbProvision: fc.Arbitrary<ProvisionFact> = fc.record({
  type: fc.constantFrom('permit' as const, 'deny' as const),
  purposes: fc.subarray(['handover', 'action-perspective']),
  actors: fc.array(arbActor, { maxLength: 3 }),
})
const arbConsent: fc.Arbitrary<ConsentFact> = fc.record({
  id: fc.constantFrom('c1', 'c2', 'c3'),
  status: fc.constantFrom('active' as const, 'rejected' as const, 'inactive' as const),
  recordedAt: arbDate,
  provisions: fc.array(arbProvision, { maxLength: 4 }),
})
const arbToken: fc.Arbitrary<TokenFact> = fc.oneof(
  fc.record({
    valid: fc.constant(true as const),
    consentId: fc.constantFrom('c1', 'c2', 'c3'),
    patientId: fc.constantFrom('p1', 'p2'),
    purpose: fc.constantFrom('handover', 'action-perspective'),
    expiresAt: arbDate,
  }),
  fc.record({ valid: fc.constant(false as const), problem: fc.string() }),
)
const arbFacts: fc.Arbitrary<Facts> = fc.record(
  {
    big: fc.record({ verified: fc.boolean() }),
    patientExists: fc.boolean(),
    patientId: fc.constantFrom('p1', 'p2'),
    consents: fc.array(arbConsent, { maxLength: 4 }),
    token: arbToken,
    emergencyReason: fc.string({ maxLength: 60 }),
    emergencyWindowOpen: fc.boolean(),
    openTaskForCaller: fc.boolean(),
  },
  { requiredKeys: [] },
)
const nonCaregiverRoles = ROLES.filter((r) => r !== 'caregiver')

describe('properties', () => {
  it('decide never permits a non-caregiver to read a dossier, whatever the facts', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...nonCaregiverRoles),
        fc.constantFrom(...ORG_TYPES),
        fc.option(fc.constantFrom('01000000330', '91000000101'), { nil: undefined }),
        arbFacts,
        (role, orgType, big, f) => {
          const d = decide({ principal: { role, orgType, org: 'ura-escort', big }, action: 'dossier.read', purpose: 'handover' }, f, NOW)
          return d.effect === 'deny' && d.reason === 'deny-not-caregiver'
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('decide never permits a dossier read or upload to a caregiver the BIG register does not confirm', () => {
    fc.assert(
      fc.property(fc.constantFrom<Action>('dossier.read', 'dossier.upload'), fc.constantFrom(...ORG_TYPES), arbFacts, (action, orgType, f) => {
        const d = decide({ principal: { role: 'caregiver', orgType, org: 'ura-x', big: '91000000101' }, action }, { ...f, big: { verified: false } }, NOW)
        return d.effect === 'deny'
      }),
      { numRuns: 1000 },
    )
  })

  it('every permit of a dossier read names a legal basis', () => {
    fc.assert(
      fc.property(arbFacts, (f) => {
        const d = decide(read(), f, NOW)
        return d.effect === 'deny' || d.legalBasis !== undefined
      }),
      { numRuns: 2000 },
    )
  })
})
