/**
 * The Dutch zib2020 Alert examples (hl7nl/Nictiz-R4-zIb2020-IG, via the shared reference pack)
 * through the derivation. Their licence is unclear, so they are read from the shared folder and
 * never copied into the repository; this suite runs only where that folder exists.
 */
import { existsSync, readFileSync } from 'node:fs'
import type { Bundle, Flag } from '@medplum/fhirtypes'
import { describe, expect, it } from 'vitest'
import { derivePerspective, type DerivedPerspective } from './derive.js'
import { exampleHandoverBundle } from './examples.js'
import { LEGAL_GROUND_EXTENSION, LEGAL_GROUND_SYSTEM } from './vocabulary.js'
import { visibleFlags } from './view.js'

const dir = new URL('../../../shared/fhir-examples/nictiz/', import.meta.url)
const NOW = new Date('2026-11-24T12:00:00Z')
const UNKNOWN_FIT = { code: 'fit-to-travel', value: 'unknown', safetyCritical: false }

const show = (value: unknown) => JSON.stringify(value, null, 2)
const available = existsSync(dir)
// Collection still runs the describe bodies of a skipped suite, so nothing is read without the folder.
const readFlag = (file: string): Flag =>
  available ? (JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Flag) : ({ resourceType: 'Flag', status: 'inactive', code: {}, subject: {} } as Flag)
const bundleWith = (flag: Flag): Bundle => exampleHandoverBundle('V0000000001', [flag])
const derive = (flag: Flag): DerivedPerspective => derivePerspective(bundleWith(flag), NOW)

/** Every string in the example that is not a code, system or date: none may reach the output. */
function textsOf(value: unknown, key = '', out: string[] = []): string[] {
  if (typeof value === 'string' && !['code', 'system', 'start', 'end', 'url', 'resourceType', 'status'].includes(key) && value.length > 3) {
    out.push(value)
  } else if (Array.isArray(value)) {
    for (const item of value) textsOf(item, key, out)
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) textsOf(v, k, out)
  }
  return out
}

describe.skipIf(!available)('zib Alert examples (Nictiz zib2020, shared folder)', () => {
  describe('Flag-nl-core-Alert-01: inactive alert with alert name data-absent-reason not-applicable', () => {
    const flag = readFlag('Flag-nl-core-Alert-01.json')

    it('reads the example as expected: status inactive, code not-applicable, period ended 2012-12-30', () => {
      expect([flag.status, flag.code.coding?.[0]?.code, flag.period?.end]).toEqual(['inactive', 'not-applicable', '2012-12-30'])
    })

    it('gives no action code: the Flag is inactive and its period ended in 2012', () => {
      const perspective = derive(flag)
      expect(perspective, show(perspective)).toEqual({ flags: [UNKNOWN_FIT] })
    })

    it('gives no action code even if it were active now: not-applicable is no alert name, and the linked Condition (flag-detail) is never followed', () => {
      const { period: _period, ...rest } = flag
      const perspective = derive({ ...rest, status: 'active' })
      expect(perspective, show(perspective)).toEqual({ flags: [UNKNOWN_FIT] })
    })
  })

  describe('Flag-nl-core-Alert-02: active MRSA carrier alert (SNOMED 432415000) since 2010-06-01', () => {
    const flag = readFlag('Flag-nl-core-Alert-02.json')

    it('reads the example as expected: active, SNOMED 432415000, open-ended period', () => {
      expect([flag.status, flag.code.coding?.[0]?.system, flag.code.coding?.[0]?.code, flag.period]).toEqual([
        'active',
        'http://snomed.info/sct',
        '432415000',
        { start: '2010-06-01' },
      ])
    })

    it('gives hygiene-measures (safety-critical, no legal ground recorded)', () => {
      const perspective = derive(flag)
      expect(perspective, show(perspective)).toEqual({
        flags: [UNKNOWN_FIT, { code: 'hygiene-measures', safetyCritical: true }],
      })
    })

    it('with consent the escort and the case manager see hygiene-measures, the regievoerder only fit-to-travel; without consent nobody sees anything', () => {
      const perspective = derive(flag)
      const seen = (audience: 'regievoerder' | 'escort' | 'casemanager', consent: boolean) =>
        visibleFlags(perspective, audience, consent).map((f) => f.code)
      expect({
        regievoerder: seen('regievoerder', true),
        escort: seen('escort', true),
        casemanager: seen('casemanager', true),
        escortWithoutConsent: seen('escort', false),
        casemanagerWithoutConsent: seen('casemanager', false),
      }).toEqual({
        regievoerder: ['fit-to-travel'],
        escort: ['fit-to-travel', 'hygiene-measures'],
        casemanager: ['hygiene-measures'],
        escortWithoutConsent: [],
        casemanagerWithoutConsent: [],
      })
    })

    it('marked by a caregiver with a legal ground, hygiene-measures reaches the escort without consent', () => {
      const marked: Flag = {
        ...flag,
        extension: [{ url: LEGAL_GROUND_EXTENSION, valueCodeableConcept: { coding: [{ system: LEGAL_GROUND_SYSTEM, code: 'legal-obligation' }] } }],
      }
      const visible = visibleFlags(derive(marked), 'escort', false)
      expect(visible, show(visible)).toEqual([{ code: 'hygiene-measures', safetyCritical: true, legalGround: 'legal-obligation' }])
    })

    it('gives no action code once ended (period.end before now) or set inactive', () => {
      expect(derive({ ...flag, period: { start: '2010-06-01', end: '2026-01-01' } }).flags).toEqual([UNKNOWN_FIT])
      expect(derive({ ...flag, status: 'inactive' }).flags).toEqual([UNKNOWN_FIT])
    })

    it('carries none of its texts (the Dutch display, the narrative, the patient name) into the output', () => {
      const json = JSON.stringify(derive(flag))
      const texts = textsOf(flag)
      expect(texts.some((t) => t.includes('Staphylococcus')), show(texts)).toBe(true)
      for (const text of texts) expect(json, text).not.toContain(text)
    })
  })

  describe('Flag-nl-core-MedicationContraIndication-01: ended medication contraindication (pregnancy, G-standaard table 902.40)', () => {
    const flag = readFlag('Flag-nl-core-MedicationContraIndication-01.json')

    it('reads the example as expected: inactive, code 1320 in urn:oid:2.16.840.1.113883.2.4.4.1.902.40, ended 2021-03-18', () => {
      expect([flag.status, flag.code.coding?.[0]?.system, flag.code.coding?.[0]?.code, flag.period?.end]).toEqual([
        'inactive',
        'urn:oid:2.16.840.1.113883.2.4.4.1.902.40',
        '1320',
        '2021-03-18',
      ])
    })

    it('gives no action code: the Flag is inactive and ended in 2021', () => {
      expect(derive(flag).flags).toEqual([UNKNOWN_FIT])
    })

    it('gives no action code even if it were active now: a medication-monitoring contraindication is for the pharmacist, not an action for chain workers', () => {
      const { period: _period, ...rest } = flag
      const perspective = derive({ ...rest, status: 'active' })
      expect(perspective, show(perspective)).toEqual({ flags: [UNKNOWN_FIT] })
      const json = JSON.stringify(perspective)
      for (const text of textsOf(flag)) expect(json, text).not.toContain(text)
    })
  })
})
