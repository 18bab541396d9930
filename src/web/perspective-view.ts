import type { Parameters, ParametersParameter } from '@medplum/fhirtypes'
import { findValue, isActionCode, isValuedActionCode, VOCABULARY, type ActionCode } from '../perspective/vocabulary.js'
import type { Lang } from './web-kit.js'

/**
 * What the perspective page shows, read from the service's `$handelingsperspectief` answer by
 * allow-list: action codes of the closed vocabulary (their words come from the vocabulary and the
 * message catalogue, never from the answer), dates, organisation numbers and types, the contact
 * line of the configuration. Anything else in the answer is ignored.
 */
export interface PerspectiveView {
  safetyOnly: boolean
  flags: { code: ActionCode; title: string; value?: string; until?: string; safetyCritical: boolean }[]
  issuerOrg?: string
  issuerType?: string
  reviewerRole?: string
  reviewedAt?: string
  plannedDeparture?: string
  stale: boolean
  staleReasons: string[]
  contact?: { name: string; phone: string; hours?: string }
}

const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name)

export function perspectiveView(parameters: Parameters, lang: Lang): PerspectiveView {
  const all = parameters.parameter ?? []
  const one = (name: string) => all.find((p) => p.name === name)
  const flags: PerspectiveView['flags'] = []
  for (const p of all.filter((x) => x.name === 'flag')) {
    const code = part(p, 'code')?.valueCoding?.code
    if (!isActionCode(code)) continue
    const definition = VOCABULARY[code]
    const valueCode = part(p, 'value')?.valueCoding?.code
    const value = valueCode !== undefined && isValuedActionCode(code) ? findValue(code, valueCode) : undefined
    const until = part(p, 'until')?.valueDateTime
    flags.push({
      code,
      title: lang === 'en' ? definition.display : definition.displayNl,
      ...(value ? { value: lang === 'en' ? value.display : value.displayNl } : {}),
      ...(until && /^\d{4}-\d{2}-\d{2}/.test(until) ? { until } : {}),
      safetyCritical: definition.safetyCritical,
    })
  }
  const contact = one('contact')
  const name = part(contact, 'name')?.valueString
  const phone = part(contact, 'phone')?.valueContactPoint?.value
  const hours = part(contact, 'hours')?.valueString
  return {
    safetyOnly: one('disclosure')?.valueCode === 'safety-critical-only',
    flags,
    ...(one('issuer')?.valueReference?.identifier?.value ? { issuerOrg: one('issuer')!.valueReference!.identifier!.value! } : {}),
    ...(one('issuerType')?.valueCoding?.code ? { issuerType: one('issuerType')!.valueCoding!.code! } : {}),
    ...(one('reviewerRole')?.valueCode ? { reviewerRole: one('reviewerRole')!.valueCode! } : {}),
    ...(one('reviewedAt')?.valueInstant ? { reviewedAt: one('reviewedAt')!.valueInstant! } : {}),
    ...(one('plannedDeparture')?.valueDateTime ? { plannedDeparture: one('plannedDeparture')!.valueDateTime! } : {}),
    stale: one('stale')?.valueBoolean === true,
    staleReasons: all.filter((p) => p.name === 'staleReason').map((p) => p.valueCode ?? '').filter(Boolean),
    ...(name && phone ? { contact: { name, phone, ...(hours ? { hours } : {}) } } : {}),
  }
}

/** A phone number as a tel: URI: digits and a leading plus only. */
export const telHref = (phone: string) => `tel:${phone.replace(/[^\d+]/g, '')}`
