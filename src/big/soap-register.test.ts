import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildListHcpApprox4Request, parseListHcpApprox4Response, SoapFaultError } from './soap-register.js'
import { XmlParseError } from './soap-xml.js'

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/big-register/${name}`, import.meta.url), 'utf8')

const CIBG = 'http://services.cibg.nl/ExternalUser'
const envelope = (body: string, soapPrefix = 'soap') =>
  `<?xml version="1.0" encoding="utf-8"?><${soapPrefix}:Envelope xmlns:${soapPrefix}="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><${soapPrefix}:Body>${body}</${soapPrefix}:Body></${soapPrefix}:Envelope>`
const registration = (number: string, end = '0001-01-01T00:00:00', code = '01') =>
  `<ArticleRegistration><ArticleRegistrationExtApp><ArticleRegistrationNumber>${number}</ArticleRegistrationNumber><ArticleRegistrationStartDate>2009-07-01T00:00:00</ArticleRegistrationStartDate><ArticleRegistrationEndDate>${end}</ArticleRegistrationEndDate><ProfessionalGroupCode>${code}</ProfessionalGroupCode></ArticleRegistrationExtApp></ArticleRegistration>`
const result = (inner: string) => envelope(`<ListHcpApprox4Result xmlns="${CIBG}">${inner}</ListHcpApprox4Result>`)

describe('buildListHcpApprox4Request', () => {
  it('is byte for byte the shared example request', () => {
    expect(buildListHcpApprox4Request('19012345601')).toBe(fixture('request-ListHcpApprox4.xml'))
  })
  it('sends all 11 digits, leading zero included', () => {
    expect(buildListHcpApprox4Request('09011122201')).toContain('<RegistrationNumber>09011122201</RegistrationNumber>')
  })
  it('refuses anything but 11 digits', () => {
    expect(() => buildListHcpApprox4Request('9011122201')).toThrow(RangeError)
    expect(() => buildListHcpApprox4Request('<x/>')).toThrow(RangeError)
  })
})

describe('parseListHcpApprox4Response', () => {
  it('reads response a: registered arts with a specialism', () => {
    expect(parseListHcpApprox4Response(fixture('response-a-arts-registered.xml'))).toEqual([
      {
        mailingName: 'A.M. Voorbeeld',
        gender: 'V',
        registrations: [{ bigNumber: '19012345601', professionalGroupCode: '01', startDate: '2009-07-01T00:00:00', endDate: null }],
        specialisms: [{ bigNumber: '19012345601', typeOfSpecialismId: 15 }],
        judgments: [],
        limitations: [],
      },
    ])
  })

  it('reads response b: the end date', () => {
    const [p] = parseListHcpApprox4Response(fixture('response-b-verpleegkundige-expired.xml'))
    expect(p?.registrations).toEqual([{ bigNumber: '49098765430', professionalGroupCode: '30', startDate: '2011-09-15T00:00:00', endDate: '2021-09-15T00:00:00' }])
  })

  it('reads response c: decimal numbers get their leading zero back, nil judgment end date is null', () => {
    const [p] = parseListHcpApprox4Response(fixture('response-c-arts-suspended.xml'))
    expect(p?.registrations[0]?.bigNumber).toBe('09011122201')
    expect(p?.judgments).toEqual([
      {
        id: '812',
        bigNumber: '09011122201',
        startDate: '2025-03-14T09:12:40',
        endDate: null,
        public: true,
        description: 'Schorsing van de inschrijving in het register. De maatregel geldt totdat het tuchtcollege anders beslist. (Fictief voorbeeld.)',
      },
    ])
  })

  it('reads response d: <ListHcpApprox /> is no match', () => {
    expect(parseListHcpApprox4Response(fixture('response-d-unknown.xml'))).toEqual([])
  })

  it('treats an absent ListHcpApprox as no match', () => {
    expect(parseListHcpApprox4Response(result(''))).toEqual([])
    expect(parseListHcpApprox4Response(envelope(`<ListHcpApprox4Result xmlns="${CIBG}" />`))).toEqual([])
  })

  it('tolerates indentation, other prefixes, a prefixed service namespace and a response wrapper', () => {
    const xml = `<?xml version="1.0"?>
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">
  <S:Body>
    <c:ListHcpApprox4Response xmlns:c="${CIBG}">
      <c:ListHcpApprox4Result>
        <c:ListHcpApprox>
          <c:ListHcpApprox4 xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
            <c:MailingName> A.M. Voorbeeld </c:MailingName>
            <c:ArticleRegistration>
              <c:ArticleRegistrationExtApp>
                <c:ArticleRegistrationNumber> 19012345601 </c:ArticleRegistrationNumber>
                <c:ArticleRegistrationStartDate>2009-07-01T00:00:00</c:ArticleRegistrationStartDate>
                <c:ArticleRegistrationEndDate>0001-01-01T00:00:00</c:ArticleRegistrationEndDate>
                <c:ProfessionalGroupCode>1</c:ProfessionalGroupCode>
              </c:ArticleRegistrationExtApp>
            </c:ArticleRegistration>
            <c:Specialism/>
            <c:JudgmentProvision>
              <c:JudgmentProvisionExtApp i:nil="true"/>
            </c:JudgmentProvision>
          </c:ListHcpApprox4>
        </c:ListHcpApprox>
      </c:ListHcpApprox4Result>
    </c:ListHcpApprox4Response>
  </S:Body>
</S:Envelope>`
    expect(parseListHcpApprox4Response(xml)).toEqual([
      {
        mailingName: 'A.M. Voorbeeld',
        gender: undefined,
        registrations: [{ bigNumber: '19012345601', professionalGroupCode: '01', startDate: '2009-07-01T00:00:00', endDate: null }],
        specialisms: [],
        judgments: [],
        limitations: [],
      },
    ])
  })

  it('keeps 0002-01-01 as an end date and reads a limitation with nil dates', () => {
    const xml = result(
      `<ListHcpApprox><ListHcpApprox4>${registration('19012345601', '0002-01-01T00:00:00')}<Limitation><LimitationExtApp><LimitationId>1</LimitationId><ArticleRegistrationNumber>19012345601</ArticleRegistrationNumber><CompetenceRegistrationId>2</CompetenceRegistrationId><TypeLimitationId>4</TypeLimitationId><Description>Alleen &amp; uitsluitend</Description><StartDate>2020-01-01T00:00:00</StartDate><EndDate xsi:nil="true" /><ExpirationEndDate xsi:nil="true" /><MonthsValid>0</MonthsValid><YearsValid>0</YearsValid></LimitationExtApp></Limitation></ListHcpApprox4></ListHcpApprox>`,
    )
    const [p] = parseListHcpApprox4Response(xml)
    expect(p?.registrations[0]?.endDate).toBe('0002-01-01T00:00:00')
    expect(p?.limitations).toEqual([
      { bigNumber: '19012345601', typeLimitationId: 4, description: 'Alleen & uitsluitend', startDate: '2020-01-01T00:00:00', endDate: null, expirationEndDate: null },
    ])
  })

  it('throws SoapFaultError for a fault', () => {
    const fault = envelope('<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Server was unable to read request.</faultstring><detail /></soap:Fault>')
    expect(() => parseListHcpApprox4Response(fault)).toThrow(SoapFaultError)
  })

  it.each([
    ['a SOAP 1.2 envelope', `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><ListHcpApprox4Result xmlns="${CIBG}"/></env:Body></env:Envelope>`],
    ['a result element in no namespace', envelope('<ListHcpApprox4Result><ListHcpApprox /></ListHcpApprox4Result>')],
    ['unqualified children inside the result', envelope(`<c:ListHcpApprox4Result xmlns:c="${CIBG}"><ListHcpApprox /></c:ListHcpApprox4Result>`)],
    ['another operation\'s answer', envelope(`<GetRibizReferenceDataResponse xmlns="${CIBG}" />`)],
    ['a registration without its number', result(`<ListHcpApprox><ListHcpApprox4>${registration('')}</ListHcpApprox4></ListHcpApprox>`)],
    ['a BIG number of 12 digits', result(`<ListHcpApprox><ListHcpApprox4>${registration('190123456012')}</ListHcpApprox4></ListHcpApprox>`)],
    ['an end date that is no date', result(`<ListHcpApprox><ListHcpApprox4>${registration('19012345601', 'soon')}</ListHcpApprox4></ListHcpApprox>`)],
    ['a judgment without Public', result(`<ListHcpApprox><ListHcpApprox4>${registration('19012345601')}<JudgmentProvision><JudgmentProvisionExtApp><ArticleNumber>19012345601</ArticleNumber><Id>1</Id><StartDate>2025-01-01T00:00:00</StartDate><EndDate xsi:nil="true" /></JudgmentProvisionExtApp></JudgmentProvision></ListHcpApprox4></ListHcpApprox>`)],
    ['an empty body', envelope('')],
    ['HTML', '<html><body>Service Unavailable</body></html>'],
  ])('refuses %s', (_name, xml) => {
    expect(() => parseListHcpApprox4Response(xml)).toThrow(XmlParseError)
  })
})
