import { readFileSync } from 'node:fs'
import type { Bundle, Consent } from '@medplum/fhirtypes'
import { describe, expect, it } from 'vitest'
import { parseConsent } from '../src/consent/consent-resource.js'
import { validateFhirResource } from '../src/fhir/validation.js'
import { checkHandoverBundle } from '../src/handover/intake.js'
import { derivePerspective } from '../src/perspective/derive.js'

const read = <T>(name: string) => JSON.parse(readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8')) as T

describe('the README examples stay valid', () => {
  it('examples/consent.json is a valid R4 Consent that Overdracht accepts', () => {
    const consent = read<Consent>('consent.json')
    expect(validateFhirResource(consent)).toEqual([])
    expect('issues' in parseConsent(consent)).toBe(false)
    // The service refuses a consent dated in the future; the walkthrough runs today.
    expect(Date.parse(consent.dateTime!)).toBeLessThan(Date.now())
  })

  it('examples/handover-bundle.json is a valid handover bundle whose perspective has the codes the README names', () => {
    const bundle = read<Bundle>('handover-bundle.json')
    expect(validateFhirResource(bundle)).toEqual([])
    expect('issues' in checkHandoverBundle(bundle)).toBe(false)
    const codes = derivePerspective(bundle, new Date('2026-11-24T09:00:00Z')).flags.map((f) => `${f.code}${f.value ? `=${f.value}` : ''}`)
    expect(codes).toEqual(
      expect.arrayContaining(['fit-to-travel=conditional', 'medical-escort-required', 'medication-accompanies', 'extra-supervision', 'hygiene-measures']),
    )
  })
})
