/**
 * The BIG register through CIBG's public SOAP 1.1 web service (PublicV4, `ListHcpApprox4`),
 * e.g. `https://api.bigregister.nl/zksrv/soap/4` (shared/big-register/README.md §1–3).
 *
 * Every failure to get a usable answer (network error, timeout, HTTP error, SOAP fault,
 * unparsable or schema-violating XML, an over-long answer) is a `BigRegisterUnavailableError`;
 * the caller fails closed.
 */
import { assertBigNumber, BigRegisterUnavailableError, type BigRegister } from './big-register.js'
import type { BigJudgment, BigLimitation, BigPerson, BigRegistration, BigSpecialism, RegisterDateTime } from './big.types.js'
import { normalizeBigNumber } from './big-status.js'
import { isNoEndDateSentinel, parseRegisterDateTime } from './register-time.js'
import { childNamed, childrenNamed, isNil, NS, parseXml, XmlParseError, type XmlElement } from './soap-xml.js'

export const SOAP_ACTION_LIST_HCP_APPROX4 = 'http://services.cibg.nl/ExternalUser/ListHcpApprox4'
export const SOAP_ACTION_GET_RIBIZ_REFERENCE_DATA = 'http://services.cibg.nl/ExternalUser/GetRibizReferenceData'
export const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8'

/**
 * The request body, byte for byte as shared/big-register/request-ListHcpApprox4.xml with the
 * number filled in: `WebSite` Ribiz and all 11 digits (the request field is a string, so the
 * leading zero is sent).
 */
export function buildListHcpApprox4Request(bigNumber: string): string {
  assertBigNumber(bigNumber)
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">\n' +
    '  <soap:Body>\n' +
    '    <listHcpApproxRequest xmlns="http://services.cibg.nl/ExternalUser">\n' +
    '      <WebSite>Ribiz</WebSite>\n' +
    `      <RegistrationNumber>${bigNumber}</RegistrationNumber>\n` +
    '    </listHcpApproxRequest>\n' +
    '  </soap:Body>\n' +
    '</soap:Envelope>\n'
  )
}

/** The answer was a SOAP fault. Carries the fault code only (the fault string may echo input). */
export class SoapFaultError extends Error {
  override readonly name = 'SoapFaultError'
  constructor(readonly faultCode: string) {
    super(`SOAP fault ${faultCode}`)
  }
}

class SchemaError extends XmlParseError {}

/** The one element in the SOAP 1.1 Body. Throws `SoapFaultError` for a fault. */
function soapBodyChild(root: XmlElement): XmlElement {
  if (root.ns !== NS.soap || root.local !== 'Envelope') throw new SchemaError('not a SOAP 1.1 envelope')
  const body = childNamed(root, NS.soap, 'Body')
  if (body === undefined) throw new SchemaError('SOAP envelope without Body')
  const fault = childNamed(body, NS.soap, 'Fault')
  if (fault !== undefined) {
    const code = fault.children.find((c) => c.local === 'faultcode')?.text.trim()
    throw new SoapFaultError(code && /^[\w.:-]{1,80}$/.test(code) ? code : 'unknown')
  }
  if (body.children.length !== 1) throw new SchemaError('SOAP Body must hold exactly one element')
  return body.children[0] as XmlElement
}

// Field readers: children of a CIBG element, by local name, following the WSDL schema.
const cibg = (el: XmlElement, local: string) => childNamed(el, NS.cibg, local)
const items = (el: XmlElement, list: string, item: string): XmlElement[] => {
  const wrapper = cibg(el, list)
  if (wrapper === undefined || isNil(wrapper)) return []
  return childrenNamed(wrapper, NS.cibg, item).filter((i) => !isNil(i))
}
const required = (el: XmlElement, local: string): XmlElement => {
  const c = cibg(el, local)
  if (c === undefined) throw new SchemaError(`${el.local} lacks ${local}`)
  return c
}
const optionalText = (el: XmlElement, local: string): string | undefined => {
  const c = cibg(el, local)
  if (c === undefined || isNil(c)) return undefined
  const t = c.text.trim()
  return t === '' ? undefined : t
}
const bigNumberOf = (el: XmlElement, local: string): string => {
  // xs:decimal: leading zeros are lost (9011122201 for 09011122201); allow a ".0" fraction.
  const m = /^\+?(\d+)(?:\.0*)?$/.exec(required(el, local).text.trim())
  const n = m ? normalizeBigNumber(m[1]!.replace(/^0+(?=\d)/, '')) : undefined
  if (n === undefined) throw new SchemaError(`${el.local}/${local} is not a BIG number`)
  return n
}
const decimalOf = (el: XmlElement, local: string): string => {
  const m = /^\+?(\d+)(?:\.0*)?$/.exec(required(el, local).text.trim())
  if (!m) throw new SchemaError(`${el.local}/${local} is not a whole decimal`)
  return m[1]!.replace(/^0+(?=\d)/, '')
}
const integerOf = (el: XmlElement, local: string): number => {
  const n = Number(decimalOf(el, local))
  if (!Number.isSafeInteger(n)) throw new SchemaError(`${el.local}/${local} is out of range`)
  return n
}
const dateOf = (el: XmlElement, local: string): RegisterDateTime => {
  const c = required(el, local)
  const d = isNil(c) ? undefined : parseRegisterDateTime(c.text)
  if (d === undefined) throw new SchemaError(`${el.local}/${local} is not a dateTime`)
  return d
}
/** Nillable or sentinel dateTime: nil and `0001-01-01` (DateTime.MinValue) are null. */
const optionalDateOf = (el: XmlElement, local: string): RegisterDateTime | null => {
  const c = required(el, local)
  if (isNil(c) || isNoEndDateSentinel(c.text)) return null
  const d = parseRegisterDateTime(c.text)
  if (d === undefined) throw new SchemaError(`${el.local}/${local} is not a dateTime`)
  return d
}
const booleanOf = (el: XmlElement, local: string): boolean => {
  const t = required(el, local).text.trim()
  if (t === 'true' || t === '1') return true
  if (t === 'false' || t === '0') return false
  throw new SchemaError(`${el.local}/${local} is not a boolean`)
}

function assertAllInCibgNamespace(el: XmlElement): void {
  for (const c of el.children) {
    if (c.ns !== NS.cibg) throw new SchemaError(`element ${c.local} is not in the CIBG namespace`)
    assertAllInCibgNamespace(c)
  }
}

function parsePerson(p: XmlElement): BigPerson {
  const registrations = items(p, 'ArticleRegistration', 'ArticleRegistrationExtApp').map((r): BigRegistration => {
    const code = optionalText(r, 'ProfessionalGroupCode')
    return {
      bigNumber: bigNumberOf(r, 'ArticleRegistrationNumber'),
      professionalGroupCode: code !== undefined && /^\d$/.test(code) ? `0${code}` : code,
      startDate: dateOf(r, 'ArticleRegistrationStartDate'),
      endDate: optionalDateOf(r, 'ArticleRegistrationEndDate'),
    }
  })
  const specialisms = items(p, 'Specialism', 'SpecialismExtApp1').map(
    (s): BigSpecialism => ({ bigNumber: bigNumberOf(s, 'ArticleRegistrationNumber'), typeOfSpecialismId: integerOf(s, 'TypeOfSpecialismId') }),
  )
  const judgments = items(p, 'JudgmentProvision', 'JudgmentProvisionExtApp').map((j): BigJudgment => {
    const description = optionalText(j, 'PublicDescription')
    return {
      id: decimalOf(j, 'Id'),
      bigNumber: bigNumberOf(j, 'ArticleNumber'),
      startDate: dateOf(j, 'StartDate'),
      endDate: optionalDateOf(j, 'EndDate'),
      public: booleanOf(j, 'Public'),
      ...(description !== undefined ? { description } : {}),
    }
  })
  const limitations = items(p, 'Limitation', 'LimitationExtApp').map((l): BigLimitation => {
    const description = optionalText(l, 'Description')
    return {
      bigNumber: bigNumberOf(l, 'ArticleRegistrationNumber'),
      typeLimitationId: integerOf(l, 'TypeLimitationId'),
      ...(description !== undefined ? { description } : {}),
      startDate: optionalDateOf(l, 'StartDate'),
      endDate: optionalDateOf(l, 'EndDate'),
      expirationEndDate: optionalDateOf(l, 'ExpirationEndDate'),
    }
  })
  return { mailingName: optionalText(p, 'MailingName'), gender: optionalText(p, 'Gender'), registrations, specialisms, judgments, limitations }
}

/**
 * Reads a `ListHcpApprox4` SOAP response (README §3), by namespace and local name. No match
 * (`<ListHcpApprox />` or no `ListHcpApprox` at all) is an empty array. Throws `SoapFaultError`
 * for a fault and `XmlParseError` for anything not well-formed or not matching the schema
 * (a required field missing, a BIG number that is no decimal, an element outside the CIBG
 * namespace inside the result).
 */
export function parseListHcpApprox4Response(xml: string): BigPerson[] {
  let result = soapBodyChild(parseXml(xml))
  // The WSDL's part is the element ListHcpApprox4Result itself; accept a wrapper around it too.
  if (result.ns === NS.cibg && result.local === 'ListHcpApprox4Response') {
    const inner = cibg(result, 'ListHcpApprox4Result')
    if (inner === undefined) throw new SchemaError('ListHcpApprox4Response without ListHcpApprox4Result')
    result = inner
  }
  if (result.ns !== NS.cibg || result.local !== 'ListHcpApprox4Result') throw new SchemaError(`unexpected SOAP body element ${result.local}`)
  assertAllInCibgNamespace(result)
  return items(result, 'ListHcpApprox', 'ListHcpApprox4').map(parsePerson)
}

export interface SoapBigRegisterOptions {
  /** The SOAP endpoint, e.g. `https://api.bigregister.nl/zksrv/soap/4`. */
  url: string
  fetch?: typeof globalThis.fetch
  /** For the whole exchange, body included. */
  timeoutMs?: number
  /** Larger answers are refused (a lookup by number returns one person). */
  maxResponseBytes?: number
}

export function createSoapBigRegister({ url, fetch = globalThis.fetch, timeoutMs = 5000, maxResponseBytes = 1_000_000 }: SoapBigRegisterOptions): BigRegister {
  return {
    source: 'soap',
    async lookup(bigNumber: string): Promise<BigPerson[]> {
      const body = buildListHcpApprox4Request(bigNumber)
      const signal = AbortSignal.timeout(timeoutMs)
      const failed = (err: unknown) =>
        err instanceof BigRegisterUnavailableError ? err : new BigRegisterUnavailableError(signal.aborted ? 'timeout' : 'network', { cause: err })
      let res: Response
      let text: string
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': SOAP_CONTENT_TYPE, SOAPAction: `"${SOAP_ACTION_LIST_HCP_APPROX4}"` },
          body,
          signal,
          redirect: 'error',
        })
        text = await readText(res, maxResponseBytes)
      } catch (err) {
        throw failed(err)
      }
      let persons: BigPerson[]
      try {
        persons = parseListHcpApprox4Response(text)
      } catch (err) {
        if (err instanceof SoapFaultError) throw new BigRegisterUnavailableError('soap-fault', { httpStatus: res.status })
        if (!res.ok) throw new BigRegisterUnavailableError('http-status', { httpStatus: res.status })
        throw new BigRegisterUnavailableError('unparsable', { httpStatus: res.status, cause: err })
      }
      if (!res.ok) throw new BigRegisterUnavailableError('http-status', { httpStatus: res.status })
      return persons
    },
  }
}

async function readText(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {})
    throw new BigRegisterUnavailableError('too-large', { httpStatus: res.status })
  }
  if (res.body === null) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => {})
      throw new BigRegisterUnavailableError('too-large', { httpStatus: res.status })
    }
    chunks.push(value)
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
  } catch {
    throw new BigRegisterUnavailableError('unparsable', { httpStatus: res.status })
  }
}
