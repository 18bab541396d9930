import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BigRegisterUnavailableError, type BigRegister } from '../src/big/big-register.js'
import type { BigRegisterRecord } from '../src/big/big-record.js'
import { createBigVerifier } from '../src/big/cached-register.js'
import { BigRegisterFileError, createFileBigRegister, DEV_CAREGIVERS, writeDevelopmentRegisterFile } from '../src/big/file-register.js'
import { createSoapBigRegister, parseListHcpApprox4Response, SoapFaultError } from '../src/big/soap-register.js'
import { FixedClock } from '../src/clock.js'
import { startFakeBigRegister, type FakeBigRegister } from './support/fake-big-register.js'

const FIXTURES = new URL('./fixtures/big-register/', import.meta.url)
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8')
const EXAMPLE_FILE = new URL('fake-data.example.json', FIXTURES).pathname
const EXAMPLE_RECORDS = JSON.parse(fixture('fake-data.example.json')) as BigRegisterRecord[]

const SOAP_ACTION = '"http://services.cibg.nl/ExternalUser/ListHcpApprox4"'
const A = '19012345601' // arts, registered
const B = '49098765430' // verpleegkundige, ended 2021-09-15
const C = '09011122201' // arts, suspended, leading zero
const UNKNOWN = '99999999999'

/** A raw SOAP call to the fake, as a client would send it. */
async function post(fake: FakeBigRegister, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(fake.url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: SOAP_ACTION, ...headers },
    body,
  })
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() }
}
const requestFor = (number: string) => fixture('request-ListHcpApprox4.xml').replace('<RegistrationNumber>19012345601<', `<RegistrationNumber>${number}<`)

let fake: FakeBigRegister
beforeEach(async () => {
  fake = await startFakeBigRegister(EXAMPLE_RECORDS)
})
afterEach(async () => {
  await fake.close()
})

describe('fake BIG register: fidelity to the shared wire format', () => {
  it.each([
    [A, 'response-a-arts-registered.xml'],
    [B, 'response-b-verpleegkundige-expired.xml'],
    [C, 'response-c-arts-suspended.xml'],
    [UNKNOWN, 'response-d-unknown.xml'],
  ])('answers ListHcpApprox4 for %s byte for byte as %s', async (number, file) => {
    const res = await post(fake, requestFor(number))
    expect(res.status, res.body).toBe(200)
    expect(res.contentType).toBe('text/xml; charset=utf-8')
    expect(res.body).toBe(fixture(file))
  })

  it('matches the number numerically: 10 digits find the record with a leading zero', async () => {
    const res = await post(fake, requestFor('9011122201'))
    expect(res.body).toBe(fixture('response-c-arts-suspended.xml'))
  })

  it('answers GetRibizReferenceData with the shared reference data', async () => {
    const res = await post(fake, fixture('request-GetRibizReferenceData.xml'), { SOAPAction: '"http://services.cibg.nl/ExternalUser/GetRibizReferenceData"' })
    expect(res.status, res.body).toBe(200)
    expect(res.body).toBe(fixture('response-GetRibizReferenceData.xml'))
  })

  it('accepts an unquoted SOAPAction (clients send both)', async () => {
    const res = await post(fake, requestFor(A), { SOAPAction: 'http://services.cibg.nl/ExternalUser/ListHcpApprox4' })
    expect(res.body).toBe(fixture('response-a-arts-registered.xml'))
  })

  it('renders a limitation and a specialism the SOAP adapter reads back as in the record', async () => {
    const res = await post(fake, requestFor('59055566601'))
    const [person] = parseListHcpApprox4Response(res.body)
    expect(person?.limitations).toEqual([
      {
        bigNumber: '59055566601',
        typeLimitationId: 2,
        description: 'Geclausuleerde inschrijving voor bepaalde tijd. (Fictief voorbeeld.)',
        startDate: '2024-05-01T00:00:00',
        endDate: '2027-05-01T00:00:00',
        expirationEndDate: null,
      },
    ])
    expect(res.body).toContain('<MailingName>T. Voorlopig</MailingName><Initial>T.</Initial>')
  })

  it('renders prefix and birth surname in the ASP.NET element order', async () => {
    const res = await post(fake, requestFor('39044455530'))
    expect(res.body).toContain(
      '<ListHcpApprox4><BirthSurname>Proef</BirthSurname><MailingName>K.E. van Dijk-Proef</MailingName><Prefix>van</Prefix><Initial>K.E.</Initial><Gender>V</Gender>',
    )
  })

  const prefixedWrapper =
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><c:listHcpApproxRequest xmlns:c="http://services.cibg.nl/ExternalUser"><WebSite>Ribiz</WebSite><RegistrationNumber>19012345601</RegistrationNumber></c:listHcpApproxRequest></soap:Body></soap:Envelope>'
  it.each([
    ['a body that is not XML', 'hello', {}],
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY a "b">]>${requestFor(A)}`, {}],
    ['no SOAPAction', requestFor(A), { SOAPAction: '' }],
    ['an unknown SOAPAction', requestFor(A), { SOAPAction: '"http://services.cibg.nl/ExternalUser/ListHcpApprox3"' }],
    ['a SOAPAction that does not match the body', requestFor(A), { SOAPAction: '"http://services.cibg.nl/ExternalUser/GetRibizReferenceData"' }],
    ['no WebSite', requestFor(A).replace('<WebSite>Ribiz</WebSite>', ''), {}],
    ['an invalid WebSite', requestFor(A).replace('Ribiz', 'Name'), {}],
    ['a prefixed wrapper with unqualified children (WebSite not seen)', prefixedWrapper, {}],
    ['a number with letters', requestFor('1901234560X'), {}],
    ['a search without RegistrationNumber', requestFor(A).replace(/<RegistrationNumber>.*<\/RegistrationNumber>/, '<Name>Voorbeeld</Name>'), {}],
    ['a SOAP 1.2 envelope', requestFor(A).replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'), {}],
  ])('answers %s with a soap:Fault and HTTP 500', async (_name, body, headers: Record<string, string>) => {
    const res = await post(fake, body, headers)
    expect(res.status, res.body).toBe(500)
    expect(res.contentType).toBe('text/xml; charset=utf-8')
    expect(res.body).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?><soap:Envelope .*<soap:Fault><faultcode>soap:Client<\/faultcode><faultstring>/)
    expect(() => parseListHcpApprox4Response(res.body)).toThrow(SoapFaultError)
  })

  it('answers GET with 405 and a wrong Content-Type with 415', async () => {
    expect((await fetch(fake.url)).status).toBe(405)
    expect((await post(fake, requestFor(A), { 'Content-Type': 'application/json' })).status).toBe(415)
  })

  it('counts and records the requests it receives', async () => {
    await post(fake, requestFor(A))
    await post(fake, 'junk')
    expect(fake.requestCount()).toBe(2)
    expect(fake.requests()[1]?.body).toBe('junk')
  })
})

describe('SOAP adapter against the fake register', () => {
  const clock = new FixedClock('2026-11-24T09:00:00Z')
  const verifierFor = (register: BigRegister) => createBigVerifier({ register, clock })

  it.each([
    [A, 'registered', 'arts'],
    [B, 'ended', 'verpleegkundige'],
    [C, 'suspended', 'arts'],
    [UNKNOWN, 'unknown', undefined],
  ])('derives %s as %s', async (number, status, profession) => {
    const v = await verifierFor(createSoapBigRegister({ url: fake.url })).verify(number)
    expect(v).toMatchObject({ bigNumber: number, status, verified: status === 'registered', source: 'soap' })
    expect(v.profession).toBe(profession)
  })

  it('sends the shared example request byte for byte, with POST, Content-Type and SOAPAction', async () => {
    await createSoapBigRegister({ url: fake.url }).lookup(A)
    const [req] = fake.requests()
    expect(req?.method).toBe('POST')
    expect(req?.headers['content-type']).toBe('text/xml; charset=utf-8')
    expect(req?.headers.soapaction).toBe(SOAP_ACTION)
    expect(req?.body).toBe(fixture('request-ListHcpApprox4.xml'))
  })

  it('sends all 11 digits for a number with a leading zero and gets it back padded', async () => {
    const persons = await createSoapBigRegister({ url: fake.url }).lookup(C)
    expect(fake.requests()[0]?.body).toContain('<RegistrationNumber>09011122201</RegistrationNumber>')
    expect(persons[0]?.registrations[0]?.bigNumber).toBe(C)
  })

  const expectUnavailable = async (register: BigRegister, reason: string) => {
    const err = await register.lookup(C).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(BigRegisterUnavailableError)
    expect((err as BigRegisterUnavailableError).reason).toBe(reason)
    expect((err as Error).message).not.toMatch(/9011122201/)
  }

  it('maps a SOAP fault from the register to unavailable', async () => {
    // Forward to the fake with an invalid WebSite, so the fake itself answers with its fault.
    const breakRequest: typeof fetch = (url, init) => fetch(url, { ...init, body: String(init?.body).replace('Ribiz', 'Bogus') })
    await expectUnavailable(createSoapBigRegister({ url: fake.url, fetch: breakRequest }), 'soap-fault')
    expect(fake.requestCount()).toBe(1)
  })

  it('maps a refused connection to unavailable', async () => {
    await fake.setDown(true, 'refuse')
    await expectUnavailable(createSoapBigRegister({ url: fake.url }), 'network')
  })

  it('maps HTTP 503 to unavailable', async () => {
    await fake.setDown(true, '503')
    await expectUnavailable(createSoapBigRegister({ url: fake.url }), 'http-status')
  })

  it('comes back when the register is up again', async () => {
    await fake.setDown(true, 'refuse')
    await fake.setDown(false)
    expect(await createSoapBigRegister({ url: fake.url }).lookup(A)).toHaveLength(1)
  })

  it('maps a timeout to unavailable', async () => {
    fake.setDelay(1000)
    await expectUnavailable(createSoapBigRegister({ url: fake.url, timeoutMs: 100 }), 'timeout')
  })

  it('maps an answer that is not SOAP to unavailable', async () => {
    const html: typeof fetch = async () => new Response('<html><body>Onderhoud</body></html>', { status: 200, headers: { 'Content-Type': 'text/html' } })
    await expectUnavailable(createSoapBigRegister({ url: fake.url, fetch: html }), 'unparsable')
  })

  it('maps an over-long answer to unavailable', async () => {
    await expectUnavailable(createSoapBigRegister({ url: fake.url, maxResponseBytes: 500 }), 'too-large')
  })
})

describe('BIG verifier cache', () => {
  let clock: FixedClock
  beforeEach(() => {
    clock = new FixedClock('2026-11-24T09:00:00Z')
  })
  const verifier = () => createBigVerifier({ register: createSoapBigRegister({ url: fake.url }), clock })

  it('answers a second check within 10 minutes from the cache', async () => {
    const v = verifier()
    const first = await v.verify(A)
    clock.advance(9 * 60_000 + 59_000)
    const second = await v.verify(A)
    expect(second).toMatchObject({ status: 'registered', checkedAt: first.checkedAt })
    expect(fake.requestCount()).toBe(1)
  })

  it('asks the register again after 10 minutes for a registered number', async () => {
    const v = verifier()
    await v.verify(A)
    clock.advance(10 * 60_000)
    const again = await v.verify(A)
    expect(fake.requestCount()).toBe(2)
    expect(again.checkedAt).toEqual(clock.now())
  })

  it('keeps other answers for 1 minute only', async () => {
    const v = verifier()
    await v.verify(B)
    await v.verify(UNKNOWN)
    clock.advance(59_000)
    await v.verify(B)
    await v.verify(UNKNOWN)
    expect(fake.requestCount()).toBe(2)
    clock.advance(1_000)
    await v.verify(B)
    await v.verify(UNKNOWN)
    expect(fake.requestCount()).toBe(4)
  })

  it('sends one request for concurrent checks of the same number', async () => {
    fake.setDelay(50)
    const v = verifier()
    const results = await Promise.all([v.verify(C), v.verify(C), v.verify('9011122201'), v.verify(C)])
    expect(results.map((r) => [r.bigNumber, r.status])).toEqual(Array(4).fill([C, 'suspended']))
    expect(fake.requestCount()).toBe(1)
  })

  it('honours an end date that passes while the answer is cached', async () => {
    fake.setRecords([{ big: A, name: 'A.M. Voorbeeld', gender: 'V', professionalGroupCode: '01', startDate: '2009-07-01', endDate: '2026-11-25' }])
    clock.set('2026-11-24T22:55:00Z') // 23:55 in Amsterdam
    const v = verifier()
    expect((await v.verify(A)).status).toBe('registered')
    clock.advance(6 * 60_000) // 00:01 on the 25th, inside the 10-minute window
    expect(await v.verify(A)).toMatchObject({ status: 'ended', verified: false })
    expect(fake.requestCount()).toBe(1)
  })

  it('still answers from an unexpired registered entry while the register is down', async () => {
    const v = verifier()
    await v.verify(A)
    await fake.setDown(true)
    clock.advance(5 * 60_000)
    expect(await v.verify(A)).toMatchObject({ status: 'registered', verified: true })
  })

  it('throws unavailable when the register is down and nothing is cached', async () => {
    await fake.setDown(true)
    await expect(verifier().verify(A)).rejects.toBeInstanceOf(BigRegisterUnavailableError)
  })

  it('throws unavailable when the register is down and the cached entry has expired', async () => {
    const v = verifier()
    await v.verify(A)
    await fake.setDown(true, '503')
    clock.advance(10 * 60_000)
    await expect(v.verify(A)).rejects.toBeInstanceOf(BigRegisterUnavailableError)
  })

  it('does not cache a failure: once the 1 s back-off has passed, the register is asked again', async () => {
    const v = verifier()
    await fake.setDown(true, '503')
    await expect(v.verify(A)).rejects.toBeInstanceOf(BigRegisterUnavailableError)
    await fake.setDown(false)
    clock.advance(1_000)
    expect((await v.verify(A)).status).toBe('registered')
  })

  it('answers unknown for input that is no BIG number without asking the register', async () => {
    expect(await verifier().verify('12-34')).toMatchObject({ bigNumber: '', status: 'unknown', verified: false })
    expect(fake.requestCount()).toBe(0)
  })
})

describe('file adapter', () => {
  const clock = new FixedClock('2026-11-24T09:00:00Z')
  const numbers = [...EXAMPLE_RECORDS.map((r) => r.big), UNKNOWN]

  it('gives the same verifications as the SOAP adapter for the same records', async () => {
    const viaSoap = createBigVerifier({ register: createSoapBigRegister({ url: fake.url }), clock })
    const viaFile = createBigVerifier({ register: await createFileBigRegister(EXAMPLE_FILE), clock })
    const statuses: string[] = []
    for (const number of numbers) {
      const soap = await viaSoap.verify(number)
      const file = await viaFile.verify(number)
      expect({ ...file, source: 'soap' }, number).toEqual(soap)
      expect(file.source).toBe('file')
      statuses.push(file.status)
    }
    expect(statuses).toEqual(['registered', 'ended', 'suspended', 'registered', 'registered', 'registered', 'unknown'])
  })

  it('reports the verpleegkundig specialist specialism and the current limitation of the example records', async () => {
    const v = createBigVerifier({ register: await createFileBigRegister(EXAMPLE_FILE), clock })
    expect(await v.verify('39044455530')).toMatchObject({ professionalGroupCode: '30', specialismIds: [76] })
    expect((await v.verify('59055566601')).limitations).toEqual([
      {
        typeLimitationId: 2,
        registerDescription: 'Geclausuleerde inschrijving voor bepaalde tijd. (Fictief voorbeeld.)',
        startDate: '2024-05-01T00:00:00',
        endDate: '2027-05-01T00:00:00',
        expirationEndDate: null,
      },
    ])
  })

  describe('files on disk', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'overdracht-big-'))
    })
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('refuses a bad file at load, naming the record', async () => {
      const path = join(dir, 'register.json')
      await writeFile(path, JSON.stringify([EXAMPLE_RECORDS[0], { ...EXAMPLE_RECORDS[1], endDate: '15-09-2021' }]))
      await expect(createFileBigRegister(path)).rejects.toThrow(BigRegisterFileError)
      await expect(createFileBigRegister(path)).rejects.toThrow(`BIG register file ${path}: record [1].endDate`)
    })

    it('refuses a file that is not JSON or is missing', async () => {
      const path = join(dir, 'register.json')
      await writeFile(path, '[{')
      await expect(createFileBigRegister(path)).rejects.toThrow(/not valid JSON/)
      await expect(createFileBigRegister(join(dir, 'absent.json'))).rejects.toThrow(/cannot be read \(ENOENT\)/)
    })

    it('writes the development register once and gives the documented statuses', async () => {
      const path = join(dir, 'sub', 'big-register.json')
      expect(await writeDevelopmentRegisterFile(path)).toBe(true)
      await writeFile(path, (await readFile(path, 'utf8')).replace('"A. Fictief-Gza"', '"A. Fictief-Gza-bewerkt"'))
      expect(await writeDevelopmentRegisterFile(path)).toBe(false)
      expect(await readFile(path, 'utf8')).toContain('Fictief-Gza-bewerkt')

      const v = createBigVerifier({ register: await createFileBigRegister(path), clock })
      const status = async (n: string) => (await v.verify(n)).status
      expect(await status(DEV_CAREGIVERS.gzaArts)).toBe('registered')
      expect(await status(DEV_CAREGIVERS.djiVerpleegkundige)).toBe('registered')
      expect(await status(DEV_CAREGIVERS.escortVerpleegkundige)).toBe('registered')
      expect(await status(DEV_CAREGIVERS.escortVerpleegkundige.slice(1))).toBe('registered')
      expect(await status(DEV_CAREGIVERS.suspendedArts)).toBe('suspended')
      expect(await status(DEV_CAREGIVERS.endedVerpleegkundige)).toBe('ended')
      expect(await status(DEV_CAREGIVERS.tandarts)).toBe('profession-not-allowed')
    })

    it('serves the development records through the SOAP fake with the same statuses', async () => {
      const path = join(dir, 'big-register.json')
      await writeDevelopmentRegisterFile(path)
      fake.setRecords(JSON.parse(await readFile(path, 'utf8')) as BigRegisterRecord[])
      const viaSoap = createBigVerifier({ register: createSoapBigRegister({ url: fake.url }), clock })
      const viaFile = createBigVerifier({ register: await createFileBigRegister(path), clock })
      for (const number of Object.values(DEV_CAREGIVERS)) {
        expect((await viaSoap.verify(number)).status, number).toBe((await viaFile.verify(number)).status)
      }
    })
  })
})
