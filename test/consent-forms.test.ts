import type { Bundle, Consent, Extension, Parameters, Task } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM } from '../src/fhir/systems.js'
import { INTERPRETER_EXTENSION, PATIENT_LANGUAGE_EXTENSION, RBTV_SYSTEM } from '../src/consent/consent-resource.js'
import { consentResource, newVNummer, taskResource, type TaskSpec } from './support/fhir-builders.js'
import { URA, type CallerName } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'

/*
 * Consent as asylum seekers give it: on a form in their own language, often through an
 * interpreter; and the check that finds forms missing or out of date before a departure.
 * This file has a database of its own, so the form check's answer can be compared whole.
 */

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

const DAY = 24 * 3600_000
const inDays = (d: number) => new Date(t.clock.now().getTime() + d * DAY).toISOString()
const text = (res: Response) => res.clone().text()

function inLanguage(vNummer: string, options: { form?: string; version?: string; interpreter?: Extension[]; patientLanguage?: string } = {}): Consent {
  const consent = consentResource({ vNummer })
  if (options.version) consent.category![1]!.coding![0]!.version = options.version
  if (options.form) consent.sourceAttachment = { ...consent.sourceAttachment!, language: options.form }
  consent.extension = [
    ...(options.patientLanguage ? [{ url: PATIENT_LANGUAGE_EXTENSION, valueCode: options.patientLanguage }] : []),
    ...(options.interpreter ? [{ url: INTERPRETER_EXTENSION, extension: options.interpreter }] : []),
  ]
  if (consent.extension.length === 0) delete consent.extension
  return consent
}

const phoneInterpreter = (language: string): Extension[] => [
  { url: 'mode', valueCode: 'phone' },
  { url: 'language', valueCode: language },
  { url: 'registration', valueIdentifier: { system: RBTV_SYSTEM, value: '20251234' } },
]

async function patientIdOf(vNummer: string): Promise<string> {
  const res = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
  return ((await res.json()) as Bundle).entry![0]!.resource!.id!
}

describe('the patient language, the form language and the interpreter', () => {
  for (const [language, name] of [['ar', 'Arabisch'], ['ti', 'Tigrinya'], ['prs', 'Dari']] as const) {
    it(`a consent on the ${language} form with a phone interpreter is recorded, shown in the consent read and in the patient's access log`, async () => {
      const vNummer = newVNummer()
      const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: inLanguage(vNummer, { form: language, patientLanguage: language, interpreter: phoneInterpreter(language) }) })
      expect(res.status, await text(res)).toBe(201)
      const id = ((await res.json()) as Consent).id!
      const read = (await (await t.get(`/fhir/Consent/${id}`, { as: 'gzaDoctor' })).json()) as Consent
      expect(read.sourceAttachment?.language).toBe(language)
      expect(read.extension?.find((e) => e.url === PATIENT_LANGUAGE_EXTENSION)?.valueCode).toBe(language)
      const interpreter = read.extension?.find((e) => e.url === INTERPRETER_EXTENSION)?.extension
      expect(interpreter?.find((e) => e.url === 'mode')?.valueCode).toBe('phone')
      expect(interpreter?.find((e) => e.url === 'registration')?.valueIdentifier?.value).toBe('20251234')

      const patientId = await patientIdOf(vNummer)
      const log = await t.get(`/fhir/Patient/${patientId}/$access-log?_format=html&lang=nl`, { as: 'privacyOfficer' })
      const html = await log.text()
      expect(log.status, html).toBe(200)
      expect(html).toContain('Formulier:</span> overdracht-toestemming versie 2026-01, ' + name)
      expect(html).toContain(`Uw taal:</span> ${name}`)
      expect(html).toContain(`Tolk:</span> tolk via de telefoon (${name})`)
      // The interpreter's register number stays with the consent, not in the log.
      expect(html).not.toContain('20251234')
      const english = await (await t.get(`/fhir/Patient/${patientId}/$access-log?_format=html&lang=en`, { as: 'privacyOfficer' })).text()
      expect(english).toContain('Interpreter:</span> interpreter by phone')
      const json = (await (await t.get(`/fhir/Patient/${patientId}/$access-log`, { as: 'privacyOfficer' })).json()) as { entries?: unknown[] }
      expect(JSON.stringify(json)).toContain(`{"type":"patientLanguage","valueString":"${language}"}`)
    })
  }

  it('a form version the catalogue does not know is refused with the versions it does know', async () => {
    const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: inLanguage(newVNummer(), { version: '2024-01' }) })
    const body = await text(res)
    expect(res.status, body).toBe(422)
    expect(body).toContain('This version of the consent form is not in the catalogue')
    expect(body).toContain('2026-01 (current)')
  })

  it('a language in which that version of the form does not exist is refused with the languages it does exist in', async () => {
    const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: inLanguage(newVNummer(), { form: 'am' }) })
    const body = await text(res)
    expect(res.status, body).toBe(422)
    expect(body).toContain('Consent.sourceAttachment.language')
    expect(body).toContain('exists in: nl, en, ar, ti, prs')
  })

  it('an interpreter without a mode, or who took part without a language, or with a malformed register number, is refused', async () => {
    for (const parts of [
      [{ url: 'language', valueCode: 'ar' }],
      [{ url: 'mode', valueCode: 'video' }],
      [{ url: 'mode', valueCode: 'phone' }, { url: 'language', valueCode: 'ar' }, { url: 'registration', valueIdentifier: { system: RBTV_SYSTEM, value: 'A-12' } }],
      [{ url: 'mode', valueCode: 'carrier-pigeon' }, { url: 'language', valueCode: 'ar' }],
    ]) {
      const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: inLanguage(newVNummer(), { form: 'ar', interpreter: parts }) })
      expect(res.status, `${JSON.stringify(parts)}: ${await text(res)}`).toBe(422)
    }
  })
})

describe('the consent form check', () => {
  const create = async (as: CallerName, spec: TaskSpec) => {
    const res = await t.post('/fhir/Task', { as, body: taskResource(spec) })
    expect(res.status, await text(res)).toBe(201)
    return (await res.json()) as Task
  }
  const refuse = async (vNummer: string, as: CallerName = 'gzaDoctor') => {
    const res = await t.post('/fhir/Consent', { as, body: consentResource({ vNummer, status: 'rejected' }) })
    expect(res.status, await text(res)).toBe(201)
  }

  it('finds each planted case for the organisation, and nothing else; another organisation sees only its own', async () => {
    // Fine: a consent on the current form.
    const fine = newVNummer()
    expect((await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: fine }) })).status).toBe(201)
    // Outdated: a consent on version 2025-06.
    const outdated = newVNummer()
    expect((await t.post('/fhir/Consent', { as: 'gzaDoctor', body: inLanguage(outdated, { version: '2025-06' }) })).status).toBe(201)
    // Refused, departure in 3 days, no phone handover: found.
    const refusedSoon = newVNummer()
    await refuse(refusedSoon)
    const soon = await create('regievoerder', { vNummer: refusedSoon, requester: URA.dtv, owner: URA.escort, start: inDays(3) })
    // Refused, departure in 2 days, phone handover recorded: not found.
    const refusedCovered = newVNummer()
    await refuse(refusedCovered)
    const covered = await create('regievoerder', { vNummer: refusedCovered, requester: URA.dtv, owner: URA.escort, start: inDays(2) })
    const done = await t.put(`/fhir/Task/${covered.id}`, {
      as: 'escortNurse',
      body: { ...taskResource({ vNummer: refusedCovered, requester: URA.dtv, owner: URA.escort, start: covered.executionPeriod!.start!, status: 'completed', output: { method: 'phone-handover', bigs: ['91000000101', '01000000330'] } }), id: covered.id },
    })
    expect(done.status, await text(done)).toBe(200)
    // Refused, departure in 10 days: outside the window.
    const refusedLater = newVNummer()
    await refuse(refusedLater)
    await create('regievoerder', { vNummer: refusedLater, requester: URA.dtv, owner: URA.escort, start: inDays(10) })
    // Withdrawn, nothing since: no consent.
    const withdrawn = newVNummer()
    const given = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: withdrawn }) })
    const givenId = ((await given.json()) as Consent).id!
    const withdraw = await t.put(`/fhir/Consent/${givenId}`, { as: 'gzaDoctor', body: { ...consentResource({ vNummer: withdrawn }), id: givenId, status: 'inactive' } })
    expect(withdraw.status, await text(withdraw)).toBe(200)
    // Another organisation's patient on an outdated form: not the GZA's business.
    const elsewhere = newVNummer()
    const other = await t.post('/fhir/Consent', { as: 'otherGzaDoctor', body: { ...inLanguage(elsewhere, { version: '2025-06' }), organization: [{ identifier: { system: SYSTEM.ura, value: URA.otherGza } }] } })
    expect(other.status, await text(other)).toBe(201)

    const res = await t.get('/fhir/Consent/$form-check', { as: 'gzaDoctor' })
    const body = await text(res)
    expect(res.status, body).toBe(200)
    const found = summarise((await res.json()) as Parameters)
    expect(found, body).toEqual(
      [
        { kind: 'outdated-form', vNummer: outdated, formVersion: '2025-06', currentFormVersion: '2026-01' },
        { kind: 'refused-without-phone-handover', vNummer: refusedSoon, task: `Task/${soon.id}` },
        { kind: 'no-consent', vNummer: withdrawn },
      ].sort(byV),
    )

    const theirs = summarise((await (await t.get('/fhir/Consent/$form-check', { as: 'otherGzaDoctor' })).json()) as Parameters)
    expect(theirs).toEqual([{ kind: 'outdated-form', vNummer: elsewhere, formVersion: '2025-06', currentFormVersion: '2026-01' }])

    // A wider window finds the later departure too.
    const wider = summarise((await (await t.get('/fhir/Consent/$form-check?days=14', { as: 'gzaDoctor' })).json()) as Parameters)
    expect(wider.map((f) => f.vNummer)).toContain(refusedLater)
    expect((await t.get('/fhir/Consent/$form-check?days=x', { as: 'gzaDoctor' })).status).toBe(400)
    // Not for non-caregivers, nor caregivers of organisations that hold no consents.
    for (const as of ['regievoerder', 'privacyOfficer', 'escortNurse'] as const) {
      expect((await t.get('/fhir/Consent/$form-check', { as })).status, as).toBe(403)
    }
  })
})

interface Summary {
  kind: string
  vNummer: string
  task?: string
  formVersion?: string
  currentFormVersion?: string
}
const byV = (a: Summary, b: Summary) => a.vNummer.localeCompare(b.vNummer)

function summarise(p: Parameters): Summary[] {
  return (p.parameter ?? [])
    .filter((x) => x.name === 'finding')
    .map((f) => {
      const part = (name: string) => f.part?.find((x) => x.name === name)
      return {
        kind: part('kind')!.valueCoding!.code!,
        vNummer: part('patient')!.valueReference!.identifier!.value!,
        ...(part('task') ? { task: part('task')!.valueReference!.reference! } : {}),
        ...(part('formVersion') ? { formVersion: part('formVersion')!.valueString! } : {}),
        ...(part('currentFormVersion') ? { currentFormVersion: part('currentFormVersion')!.valueString! } : {}),
      }
    })
    .sort(byV)
}
