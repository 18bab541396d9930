import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { consentResource, handoverBundle, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { createTestApp } from './support/test-app.js'

/*
 * Model-based: random sequences of actions by random organisations, over HTTP. A small model
 * states what the rules allow (custody by first consent or by an accepted transfer; flags for the
 * parties of a regievoerder's task). Every action's answer must match the model, and afterwards no
 * organisation reaches a consent, the flags or the audit log unless a custodian, a consent or a
 * task of the right kind granted it.
 */

const t = await createTestApp()
afterAll(async () => t.close())

const ORGS = {
  gza: { caller: 'gzaDoctor', ura: URA.gza, care: true, officer: 'privacyOfficer' },
  otherGza: { caller: 'otherGzaDoctor', ura: URA.otherGza, care: true, officer: undefined },
  dji: { caller: 'djiNurse', ura: URA.dji, care: true, officer: 'djiPrivacyOfficer' },
  dtv: { caller: 'regievoerder', ura: URA.dtv, care: false, officer: undefined },
  dvo: { caller: 'dvoEscort', ura: URA.dvo, care: false, officer: undefined },
  coa: { caller: 'coaCaseManager', ura: URA.coa, care: false, officer: undefined },
} as const satisfies Record<string, { caller: CallerName; ura: string; care: boolean; officer: CallerName | undefined }>
type Org = keyof typeof ORGS
const ORG_NAMES = Object.keys(ORGS) as Org[]
const CARE = ORG_NAMES.filter((o) => ORGS[o].care)

type Action =
  | { kind: 'consent'; by: Org }
  | { kind: 'upload'; by: Org }
  | { kind: 'transfer'; by: Org; owner: Org }
  | { kind: 'departure'; by: Org; owner: Org; recipients: Org[] }
  | { kind: 'accept' | 'complete' | 'cancel'; by: Org; task: number }

const arbOrg = fc.constantFrom(...ORG_NAMES)
const arbAction: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('consent' as const), by: arbOrg }),
  fc.record({ kind: fc.constant('upload' as const), by: arbOrg }),
  fc.record({ kind: fc.constant('transfer' as const), by: arbOrg, owner: fc.constantFrom(...CARE) }),
  fc.record({ kind: fc.constant('departure' as const), by: arbOrg, owner: arbOrg, recipients: fc.subarray(ORG_NAMES, { maxLength: 2 }) }),
  fc.record({ kind: fc.constantFrom('accept' as const, 'complete' as const, 'cancel' as const), by: arbOrg, task: fc.nat({ max: 3 }) }),
)

interface ModelTask {
  id: string
  code: 'transfer' | 'departure'
  requester: Org
  owner: Org
  recipients: Org[]
  status: 'requested' | 'accepted' | 'completed' | 'cancelled'
  start: string
  /** Whether the owner became custodian through this transfer. */
  gaveCustody: boolean
}

interface Model {
  /** Whether the service knows the patient (a consent or a task named it). */
  known: boolean
  hadCustodian: boolean
  /** Custody sources per organisation: 'consent' or a task id. */
  custody: Map<Org, Set<string>>
  everCustodian: Set<Org>
  consented: boolean
  tasks: ModelTask[]
}

const isCustodian = (m: Model, o: Org) => (m.custody.get(o)?.size ?? 0) > 0
const open = (task: ModelTask) => task.status === 'requested' || task.status === 'accepted'
const isTaskParty = (m: Model, o: Org) =>
  m.tasks.some((task) => (task.code === 'departure' && (task.requester === o || task.owner === o)) || task.recipients.includes(o))
const isReceiver = (m: Model, o: Org) => m.tasks.some((task) => task.code === 'transfer' && task.owner === o && open(task))

function grantCustody(m: Model, o: Org, source: string) {
  if (!m.custody.has(o)) m.custody.set(o, new Set())
  m.custody.get(o)!.add(source)
  m.everCustodian.add(o)
}

async function run(actions: Action[]) {
  const vNummer = newVNummer()
  const m: Model = { known: false, hadCustodian: false, custody: new Map(), everCustodian: new Set(), consented: false, tasks: [] }
  const as = (o: Org) => ({ as: ORGS[o].caller })
  const start = new Date(t.clock.now().getTime() + 5 * 24 * 3600_000).toISOString()
  const taskBody = (task: ModelTask, status: string) => ({
    ...taskResource({
      vNummer,
      code: task.code,
      requester: ORGS[task.requester].ura,
      owner: ORGS[task.owner].ura,
      ...(task.recipients.length ? { recipients: task.recipients.map((r) => ORGS[r].ura) } : {}),
      start: task.start,
      status,
      ...(status === 'completed' ? { output: { method: 'handed-to-patient' } } : {}),
    }),
    id: task.id,
  })

  for (const a of actions) {
    let res: Response
    let allowed: boolean
    let apply = () => {}
    switch (a.kind) {
      case 'consent': {
        res = await t.post('/fhir/Consent', { ...as(a.by), body: consentResource({ vNummer, organization: ORGS[a.by].ura }) })
        // Custody of a new patient goes to the first recorder; of a patient known through a task, only
        // to a care organisation that task names.
        allowed = ORGS[a.by].care && (m.hadCustodian ? isCustodian(m, a.by) : !m.known || isTaskParty(m, a.by) || isReceiver(m, a.by))
        apply = () => {
          if (!m.hadCustodian) grantCustody(m, a.by, 'consent')
          m.hadCustodian = true
          m.consented = true
        }
        break
      }
      case 'upload':
        res = await t.post('/fhir/Bundle', { ...as(a.by), body: handoverBundle(vNummer) })
        allowed = ORGS[a.by].care && isCustodian(m, a.by) && m.consented
        break
      case 'transfer': {
        res = await t.post('/fhir/Task', { ...as(a.by), body: taskResource({ vNummer, code: 'transfer', requester: ORGS[a.by].ura, owner: ORGS[a.owner].ura, start }) })
        allowed = a.owner !== a.by && ORGS[a.by].care && isCustodian(m, a.by)
        break
      }
      case 'departure':
        res = await t.post('/fhir/Task', {
          ...as(a.by),
          body: taskResource({ vNummer, requester: ORGS[a.by].ura, owner: ORGS[a.owner].ura, ...(a.recipients.length ? { recipients: a.recipients.map((r) => ORGS[r].ura) } : {}), start }),
        })
        allowed = a.by === 'dtv' && a.owner !== 'dtv'
        break
      default: {
        const task = m.tasks[a.task]
        if (!task) continue
        const to = a.kind === 'accept' ? 'accepted' : a.kind === 'complete' ? 'completed' : 'cancelled'
        res = await t.put(`/fhir/Task/${task.id}`, { ...as(a.by), body: taskBody(task, to) })
        const party = a.by === task.requester ? 'requester' : a.by === task.owner ? 'owner' : undefined
        allowed =
          open(task) &&
          // An update that keeps the status (a party re-sending the task) changes nothing and is allowed.
          ((party !== undefined && to === task.status) ||
            (a.kind === 'accept' && party === 'owner' && task.status === 'requested') ||
            (a.kind === 'complete' && party !== undefined) ||
            (a.kind === 'cancel' && party === 'requester'))
        apply = () => {
          task.status = to
          if (task.code !== 'transfer') return
          if (to === 'accepted' || to === 'completed') {
            if (!task.gaveCustody) grantCustody(m, task.owner, task.id)
            task.gaveCustody = true
          }
          if (to === 'completed') m.custody.get(task.requester)?.clear()
          if (to === 'cancelled' && task.gaveCustody) m.custody.get(task.owner)?.delete(task.id)
        }
      }
    }
    const body = await res.clone().text()
    expect(res.status < 300, `${JSON.stringify(a)} answered ${res.status}: ${body}`).toBe(allowed)
    if (!allowed) continue
    apply()
    m.known = true
    if (a.kind === 'transfer' || a.kind === 'departure') {
      const id = ((await res.json()) as { id: string }).id
      m.tasks.push({
        id,
        code: a.kind,
        requester: a.by,
        owner: a.owner,
        recipients: a.kind === 'departure' ? a.recipients : [],
        status: 'requested',
        start,
        gaveCustody: false,
      })
    }
  }

  // What each organisation reaches now must be exactly what the model granted.
  const patientId = (await t.db.selectFrom('patient_identifier').select('patient_id').where('value', '=', vNummer).executeTakeFirst())?.patient_id
  if (!patientId) return
  for (const o of ORG_NAMES) {
    const perspective = await t.get(`/fhir/Patient/${patientId}/$handelingsperspectief`, as(o))
    const mayFlags = ORGS[o].care ? isCustodian(m, o) || isReceiver(m, o) || isTaskParty(m, o) : isTaskParty(m, o)
    expect(perspective.status === 200, `flags for ${o}: ${perspective.status}`).toBe(mayFlags)
    const consents = await t.get(`/fhir/Consent?patient=${patientId}`, as(o))
    expect(consents.status === 200, `consents for ${o}: ${consents.status}`).toBe(ORGS[o].care && isCustodian(m, o))
    const officer = ORGS[o].officer
    if (officer) {
      const log = await t.get(`/fhir/AuditEvent?patient=${patientId}`, { as: officer })
      expect(log.status === 200, `audit log for ${o}'s privacy officer: ${log.status}`).toBe(m.everCustodian.has(o))
    }
  }
}

describe('care relationships (model-based)', () => {
  it('random sequences of actions by random organisations never give an organisation access that no custodian, consent or task granted it', async () => {
    await fc.assert(fc.asyncProperty(fc.array(arbAction, { minLength: 3, maxLength: 10 }), run), { numRuns: 60 })
  }, 600_000)
})
