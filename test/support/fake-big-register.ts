/**
 * A test double of CIBG's BIG-register web service (PublicV4, SOAP 1.1): a real HTTP server on
 * 127.0.0.1 that answers `ListHcpApprox4` by `RegistrationNumber` and `GetRibizReferenceData`
 * the way shared/big-register/README.md describes, in the byte style of the shared
 * response-*.xml files (compact, one line, ASP.NET XmlSerializer: `<X />` for empty lists,
 * `xsi:nil`, `0001-01-01T00:00:00` for no end date, BIG numbers as decimals without leading
 * zeros). It is fed records in the fake-data.example.json form (`BigRegisterRecord`).
 *
 * What it checks, as the real service would refuse it:
 * - method POST (else HTTP 405) and `Content-Type: text/xml` (else HTTP 415): HTTP-level errors;
 * - a SOAP 1.1 envelope, parsed namespace-aware; a `SOAPAction` (quoted or not) naming one of
 *   the two operations and matching the Body element; `WebSite` present and one of
 *   None|Ribiz|Skp; `RegistrationNumber` digits only. Anything else is a `soap:Fault`
 *   (`soap:Client`) with HTTP 500.
 * Matching is numeric (README §6.5): `9011122201` finds `09011122201`.
 *
 * Synthetic values (README §6.11): `SpecialismId` 3000 + index, `LimitationId` 5000 + index,
 * `CompetenceRegistrationId` 7000 + index, `MonthsValid`/`YearsValid` 0; no `Mention` items,
 * no work addresses. `Initial` is the leading initials of the record's name; `BirthSurname` is
 * the record's `birthSurname`, else the rest of the name without the prefix.
 */
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseBigRegisterRecords, type BigRegisterRecord } from '../../src/big/big-record.js'
import { isNoEndDateSentinel, parseRegisterDateTime } from '../../src/big/register-time.js'
import { SOAP_ACTION_GET_RIBIZ_REFERENCE_DATA, SOAP_ACTION_LIST_HCP_APPROX4 } from '../../src/big/soap-register.js'
import { childrenNamed, escapeXmlText, NS, parseXml, type XmlElement } from '../../src/big/soap-xml.js'

const REFERENCE_DATA_FILE = new URL('../fixtures/big-register/response-GetRibizReferenceData.xml', import.meta.url)

const ENVELOPE_START =
  '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
const ENVELOPE_END = '</soap:Body></soap:Envelope>'
const NO_END_DATE = '0001-01-01T00:00:00'

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export interface FakeBigRegister {
  /** The SOAP endpoint, `http://127.0.0.1:<port>/zksrv/soap/4`. */
  url: string
  setRecords(records: readonly BigRegisterRecord[]): void
  /**
   * Down: `refuse` (default) stops listening, so connections are refused; `503` answers
   * HTTP 503. Up again: listens on the same port. Await it before the next request.
   */
  setDown(down: boolean, how?: 'refuse' | '503'): Promise<void>
  /** Delay before each answer (for timeout tests). */
  setDelay(ms: number): void
  /** Requests received (also those answered 503 or with a fault). */
  requestCount(): number
  requests(): readonly RecordedRequest[]
  close(): Promise<void>
}

// ---- Rendering, in the byte style of the shared response files ----

const el = (name: string, text: string) => `<${name}>${escapeXmlText(text)}</${name}>`
const nil = (name: string) => `<${name} xsi:nil="true" />`
const list = (name: string, items: string[]) => (items.length === 0 ? `<${name} />` : `<${name}>${items.join('')}</${name}>`)
/** xs:decimal as .NET writes it: no leading zeros. */
const decimal = (digits: string | number) => String(BigInt(String(digits)))
const dateTime = (v: string) => parseRegisterDateTime(v) ?? v
const optionalDateTime = (name: string, v: string | null | undefined) =>
  v === null || v === undefined || isNoEndDateSentinel(v) ? nil(name) : el(name, dateTime(v))

function nameParts(r: BigRegisterRecord): { initials: string | undefined; birthSurname: string } {
  const m = /^((?:\p{Lu}\p{Ll}{0,2}\.)+)\s+(.+)$/u.exec(r.name.trim())
  const initials = m?.[1]
  let rest = m?.[2] ?? r.name.trim()
  if (r.prefix !== undefined && rest.startsWith(`${r.prefix} `)) rest = rest.slice(r.prefix.length + 1)
  return { initials, birthSurname: r.birthSurname ?? rest }
}

export function renderPerson(r: BigRegisterRecord): string {
  const number = decimal(r.big)
  const { initials, birthSurname } = nameParts(r)
  const registration =
    '<ArticleRegistrationExtApp>' +
    el('ArticleRegistrationNumber', number) +
    el('ArticleRegistrationStartDate', dateTime(r.startDate)) +
    el('ArticleRegistrationEndDate', r.endDate === null || r.endDate === undefined ? NO_END_DATE : dateTime(r.endDate)) +
    el('ProfessionalGroupCode', r.professionalGroupCode) +
    '</ArticleRegistrationExtApp>'
  const specialisms = (r.specialisms ?? []).map(
    (id, i) =>
      '<SpecialismExtApp1>' + el('SpecialismId', String(3000 + i)) + el('ArticleRegistrationNumber', number) + el('TypeOfSpecialismId', String(id)) + '</SpecialismExtApp1>',
  )
  const judgments = (r.judgments ?? []).map(
    (j) =>
      '<JudgmentProvisionExtApp>' +
      el('ArticleNumber', number) +
      el('Id', decimal(j.id)) +
      el('StartDate', dateTime(j.startDate)) +
      (j.description !== undefined ? el('PublicDescription', j.description) : '') +
      optionalDateTime('EndDate', j.endDate) +
      el('Public', String(j.public ?? true)) +
      '</JudgmentProvisionExtApp>',
  )
  const limitations = (r.limitations ?? []).map(
    (l, i) =>
      '<LimitationExtApp>' +
      el('LimitationId', String(5000 + i)) +
      el('ArticleRegistrationNumber', number) +
      el('CompetenceRegistrationId', String(7000 + i)) +
      el('TypeLimitationId', String(l.typeId)) +
      (l.description !== undefined ? el('Description', l.description) : '') +
      optionalDateTime('StartDate', l.startDate) +
      optionalDateTime('EndDate', l.endDate) +
      optionalDateTime('ExpirationEndDate', l.expirationEndDate) +
      el('MonthsValid', '0') +
      el('YearsValid', '0') +
      '</LimitationExtApp>',
  )
  return (
    '<ListHcpApprox4>' +
    el('BirthSurname', birthSurname) +
    el('MailingName', r.name) +
    (r.prefix !== undefined ? el('Prefix', r.prefix) : '') +
    (initials !== undefined ? el('Initial', initials) : '') +
    (r.gender !== undefined ? el('Gender', r.gender) : '') +
    list('ArticleRegistration', [registration]) +
    list('Specialism', specialisms) +
    '<Mention />' +
    list('JudgmentProvision', judgments) +
    list('Limitation', limitations) +
    '</ListHcpApprox4>'
  )
}

/** The whole response body for these matching records (none: `<ListHcpApprox />`). */
export function renderListHcpApprox4Response(matches: readonly BigRegisterRecord[]): string {
  return (
    ENVELOPE_START +
    '<ListHcpApprox4Result xmlns="http://services.cibg.nl/ExternalUser">' +
    list('ListHcpApprox', matches.map(renderPerson)) +
    '</ListHcpApprox4Result>' +
    ENVELOPE_END
  )
}

export function renderFault(faultcode: 'soap:Client' | 'soap:Server', faultstring: string): string {
  return (
    ENVELOPE_START +
    '<soap:Fault>' +
    el('faultcode', faultcode) +
    el('faultstring', faultstring) +
    '<detail><Title>Exception</Title><Description /><Message>' +
    escapeXmlText(faultstring) +
    '</Message><Exception /></detail></soap:Fault>' +
    ENVELOPE_END
  )
}

// ---- Request handling ----

class ClientFault extends Error {}

const BODY_LIMIT = 64 * 1024

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > BODY_LIMIT) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function soapAction(req: IncomingMessage): string | undefined {
  const raw = req.headers.soapaction
  if (typeof raw !== 'string') return undefined
  const v = raw.trim()
  return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v
}

/** The one Body element of a SOAP 1.1 request, or a client fault. */
function requestBodyElement(xml: string): XmlElement {
  let root: XmlElement
  try {
    root = parseXml(xml)
  } catch {
    throw new ClientFault('Server was unable to read request. ---> There is an error in XML document (1, 1).')
  }
  if (root.ns !== NS.soap || root.local !== 'Envelope') throw new ClientFault('The request is not a SOAP 1.1 envelope.')
  const bodies = childrenNamed(root, NS.soap, 'Body')
  const body = bodies[0]
  if (bodies.length !== 1 || body === undefined || body.children.length !== 1) throw new ClientFault('The SOAP Body must hold exactly one element.')
  return body.children[0] as XmlElement
}

function matchByNumber(records: readonly BigRegisterRecord[], operation: XmlElement): BigRegisterRecord[] {
  if (operation.ns !== NS.cibg || operation.local !== 'listHcpApproxRequest') {
    throw new ClientFault(`Unexpected element ${operation.local} for SOAPAction ${SOAP_ACTION_LIST_HCP_APPROX4}.`)
  }
  // elementFormDefault="qualified": children outside the service namespace are not seen.
  const field = (local: string) => {
    const found = childrenNamed(operation, NS.cibg, local)
    if (found.length > 1) throw new ClientFault(`Server was unable to read request. ---> Element ${local} occurs more than once.`)
    return found[0]?.text.trim()
  }
  const website = field('WebSite')
  if (website === undefined) throw new ClientFault("Server was unable to read request. ---> The required element 'WebSite' is missing.")
  if (!['None', 'Ribiz', 'Skp'].includes(website)) {
    throw new ClientFault(`Server was unable to read request. ---> Instance validation error: '${website}' is not a valid value for SourceWebSite.`)
  }
  const number = field('RegistrationNumber')
  if (number === undefined || number === '') throw new ClientFault('This test double answers searches by RegistrationNumber only.')
  if (!/^\d{1,18}$/.test(number)) throw new ClientFault('RegistrationNumber must contain digits only.')
  const wanted = BigInt(number)
  return records.filter((r) => BigInt(r.big) === wanted)
}

export async function startFakeBigRegister(initialRecords: readonly BigRegisterRecord[]): Promise<FakeBigRegister> {
  const referenceData = await readFile(REFERENCE_DATA_FILE, 'utf8')
  let records = parseBigRegisterRecords(structuredClone(initialRecords), 'fake BIG register records')
  let downHow: 'refuse' | '503' | undefined
  let delayMs = 0
  const log: RecordedRequest[] = []

  const send = (res: ServerResponse, status: number, body: string, contentType = 'text/xml; charset=utf-8', headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'private', ...headers })
    res.end(body)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = (await readBody(req)) ?? ''
    log.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body })
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
    if (downHow === '503') return send(res, 503, 'Service Unavailable', 'text/plain; charset=utf-8', { 'Retry-After': '60' })
    if (req.method !== 'POST') return send(res, 405, 'Method Not Allowed', 'text/plain; charset=utf-8', { Allow: 'POST' })
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    if (mediaType !== 'text/xml') return send(res, 415, 'Unsupported Media Type', 'text/plain; charset=utf-8')
    try {
      const action = soapAction(req)
      if (action !== SOAP_ACTION_LIST_HCP_APPROX4 && action !== SOAP_ACTION_GET_RIBIZ_REFERENCE_DATA) {
        throw new ClientFault(`Server did not recognize the value of HTTP Header SOAPAction: ${action ?? ''}.`)
      }
      const operation = requestBodyElement(body)
      if (action === SOAP_ACTION_GET_RIBIZ_REFERENCE_DATA) {
        if (operation.ns !== NS.cibg || operation.local !== 'GetRibizReferenceData') {
          throw new ClientFault(`Unexpected element ${operation.local} for SOAPAction ${action}.`)
        }
        return send(res, 200, referenceData)
      }
      return send(res, 200, renderListHcpApprox4Response(matchByNumber(records, operation)))
    } catch (err) {
      if (err instanceof ClientFault) return send(res, 500, renderFault('soap:Client', err.message))
      return send(res, 500, renderFault('soap:Server', 'Server was unable to process request.'))
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy()
    })
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve()
      server.close(() => resolve())
      server.closeAllConnections()
    })

  await listen(0)
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/zksrv/soap/4`,
    setRecords(next) {
      records = parseBigRegisterRecords(structuredClone(next), 'fake BIG register records')
    },
    async setDown(down, how = 'refuse') {
      if (down) {
        downHow = how
        if (how === 'refuse') await stop()
      } else {
        downHow = undefined
        if (!server.listening) await listen(port)
      }
    },
    setDelay(ms) {
      delayMs = ms
    },
    requestCount: () => log.length,
    requests: () => log,
    close: stop,
  }
}
