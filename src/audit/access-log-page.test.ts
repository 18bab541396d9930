import { describe, expect, it } from 'vitest'
import type { AccessLogEntry } from './access-log.js'
import { countAccessLog, escapeHtml, formatDateTime, renderAccessLogHtml, type AccessLogPageOptions } from './access-log-page.js'

const EVENT_TYPES = [
  'dossier.upload',
  'dossier.read',
  'patient.search',
  'consent.record',
  'consent.withdraw',
  'consent.read',
  'consent.token',
  'perspective.read',
  'task.create',
  'task.update',
  'task.read',
  'task.search',
  'audit.read',
  'emergency.review',
  'patient.erase',
  'retention.run',
] as const

const WORDS: Record<(typeof EVENT_TYPES)[number], { nl: string; en: string }> = {
  'dossier.upload': { nl: 'Dossier beschikbaar gesteld', en: 'Made the dossier available' },
  'dossier.read': { nl: 'Dossier ingezien', en: 'Opened the dossier' },
  'patient.search': { nl: 'Naar u gezocht in de lijst van patiënten', en: 'Searched for you in the patient list' },
  'consent.record': { nl: 'Uw toestemming (of weigering) vastgelegd', en: 'Recorded your consent (or refusal)' },
  'consent.withdraw': { nl: 'Intrekking van uw toestemming vastgelegd', en: 'Recorded that you withdrew your consent' },
  'consent.read': { nl: 'Uw toestemming bekeken', en: 'Looked at your consent' },
  'consent.token': { nl: 'Toegangscode voor uw dossier gemaakt', en: 'Made an access code for your dossier' },
  'perspective.read': { nl: 'Reisadvies (handelingsperspectief) ingezien', en: 'Looked at the travel advice (handelingsperspectief)' },
  'task.create': { nl: 'Overdracht of vertrek aangekondigd (taak gemaakt)', en: 'Announced a transfer or departure (task made)' },
  'task.update': { nl: 'Taak voor overdracht of vertrek bijgewerkt', en: 'Updated a transfer or departure task' },
  'task.read': { nl: 'Taak voor overdracht of vertrek bekeken', en: 'Looked at a transfer or departure task' },
  'task.search': { nl: 'Gezocht naar taken voor overdracht of vertrek', en: 'Searched transfer or departure tasks' },
  'audit.read': { nl: 'Deze lijst (het logboek) bekeken', en: 'Looked at this list (the log)' },
  'emergency.review': { nl: 'Noodtoegang gecontroleerd', en: 'Checked an emergency access' },
  'patient.erase': { nl: 'Uw gegevens uit Overdracht verwijderd', en: 'Deleted your data from Overdracht' },
  'retention.run': { nl: 'Bewaartermijn gecontroleerd (automatisch)', en: 'Checked how long data may be kept (automatic)' },
}

const BASE: AccessLogEntry = {
  at: new Date('2026-11-24T09:15:00Z'),
  eventType: 'dossier.read',
  outcome: 'permit',
  organisation: '90000003',
  organisationType: 'medical-escort',
  role: 'caregiver',
  userName: 'Test escort nurse',
  userId: 'escort-nurse-1',
  bigNumber: '01000000330',
  purpose: 'handover',
  legalBasis: 'EXPLICIT_CONSENT',
  emergency: false,
}

const entry = (over: Partial<AccessLogEntry>): AccessLogEntry => ({ ...BASE, ...over })

const OPTIONS: AccessLogPageOptions = { lang: 'nl', patientId: 'pat-7f3a', generatedAt: new Date('2026-11-24T09:15:00Z') }

/** The text a reader sees: markup, the style sheet and attribute values dropped, entities decoded. */
function visibleText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<title>[\s\S]*?<\/title>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&#61;/g, '=')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

/** The table body's rows as cell texts. */
function rows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? ''
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => [...(m[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => visibleText(c[1] ?? '').trim()))
}

describe('renderAccessLogHtml: every event type in words', () => {
  for (const lang of ['nl', 'en'] as const) {
    it(`${lang}: each known event type is written in words, and no raw code shows`, () => {
      const entries = EVENT_TYPES.map((eventType, i) =>
        entry({ eventType, at: new Date(Date.UTC(2026, 10, 1, 9, i)), ...(eventType === 'retention.run' ? { role: 'system', organisationType: 'system', organisation: 'overdracht' } : {}) }),
      )
      const html = renderAccessLogHtml(entries, { ...OPTIONS, lang })
      const text = visibleText(html)
      const cells = rows(html)
      expect(cells).toHaveLength(EVENT_TYPES.length)
      EVENT_TYPES.forEach((eventType, i) => {
        expect(cells[i]?.[3]).toBe(WORDS[eventType][lang])
        expect(text).not.toContain(eventType)
      })
      expect(html).toContain(`<html lang="${lang}">`)
      for (const code of ['EXPLICIT_CONSENT', 'medical-escort', 'caregiver', 'handover', 'permit']) expect(text).not.toContain(code)
    })
  }

  it('organisation types, roles, purposes and legal bases are in words, with URA and BIG in small print', () => {
    const html = renderAccessLogHtml(
      [
        entry({ organisationType: 'gza', organisation: '90000001', eventType: 'dossier.upload', legalBasis: 'DIRECT_TREATMENT' }),
        entry({ organisationType: 'dji-medical', organisation: '90000002', bigNumber: '91000000230', legalBasis: 'CONFLICT_OF_DUTIES', emergency: true }),
        entry({ organisationType: 'dtv', organisation: '90000004', role: 'regievoerder', eventType: 'perspective.read', purpose: 'action-perspective', legalBasis: 'LEGAL_OBLIGATION', bigNumber: undefined }),
        entry({ organisationType: 'dvo', role: 'escort' }),
        entry({ organisationType: 'kmar', role: 'escort' }),
        entry({ organisationType: 'coa', role: 'casemanager' }),
        entry({ organisationType: 'gza', role: 'privacy-officer', eventType: 'audit.read' }),
        entry({ organisationType: 'system', organisation: 'overdracht', role: 'system', eventType: 'patient.erase', purpose: 'retention', legalBasis: 'LEGAL_OBLIGATION', userName: 'Overdracht retention job', bigNumber: undefined }),
      ],
      OPTIONS,
    )
    const cells = rows(html)
    expect(cells.map((r) => r[1])).toEqual([
      'GZA (zorg voor asielzoekers) URA 90000001',
      'Medische dienst DJI (detentie) URA 90000002',
      'DT&V (Dienst Terugkeer en Vertrek) URA 90000004',
      'DV&O (Dienst Vervoer en Ondersteuning) URA 90000003',
      'Koninklijke Marechaussee URA 90000003',
      'COA (opvang van asielzoekers) URA 90000003',
      'GZA (zorg voor asielzoekers) URA 90000003',
      'Overdracht (dit systeem zelf)',
    ])
    expect(cells[1]?.[2]).toBe('Test escort nurse Rol: Zorgverlener BIG-nummer 91000000230')
    expect(cells[2]?.[2]).toBe('Test escort nurse Rol: Regievoerder (regelt het vertrek)')
    expect(cells[3]?.[2]).toContain('Rol: Begeleider tijdens vervoer')
    expect(cells[5]?.[2]).toContain('Rol: Casemanager (opvang)')
    expect(cells[6]?.[2]).toContain('Rol: Privacyfunctionaris')
    expect(cells[7]?.[2]).toBe('Overdracht (automatisch) Rol: Automatisch, geen persoon')
    expect(cells[0]?.[5]).toBe('Doel: Overdracht van zorg Grondslag: Uw behandeling (behandelrelatie)')
    expect(cells[1]?.[5]).toBe('Noodtoegang Doel: Overdracht van zorg Grondslag: Noodsituatie (conflict van plichten)')
    expect(cells[2]?.[5]).toBe('Doel: Reisadvies voor vertrek en vervoer Grondslag: Wettelijke plicht')
    expect(cells[3]?.[5]).toBe('Doel: Overdracht van zorg Grondslag: Uw toestemming')
    expect(html).toMatch(/<tr class="emergency">/)

    const en = rows(renderAccessLogHtml([entry({ legalBasis: 'CONFLICT_OF_DUTIES', emergency: true }), entry({ organisationType: 'kmar', role: 'escort' })], { ...OPTIONS, lang: 'en' }))
    expect(en[0]?.[5]).toBe('Emergency access Purpose: Handover of care Legal basis: Emergency (conflict of duties)')
    expect(en[0]?.[1]).toBe('Medical escort (care during the journey) URA 90000003')
    expect(en[1]?.[1]).toBe('Royal Netherlands Marechaussee (KMar) URA 90000003')
    expect(en[1]?.[2]).toBe('Test escort nurse Role: Escort officer during transport BIG number 01000000330')
  })

  it('allowed and refused in words, and a person without a name is "onbekend" / "not named"', () => {
    const list = [entry({}), entry({ outcome: 'deny', legalBasis: undefined, userName: undefined, bigNumber: undefined })]
    const nl = rows(renderAccessLogHtml(list, OPTIONS))
    expect(nl[0]?.[4]).toBe('Toegestaan')
    expect(nl[1]?.[4]).toBe('Geweigerd dit is niet gebeurd')
    expect(nl[1]?.[2]).toBe('onbekend Rol: Zorgverlener')
    expect(nl[1]?.[5]).toBe('Doel: Overdracht van zorg Grondslag: Geen (niet toegestaan)')
    const en = rows(renderAccessLogHtml(list, { ...OPTIONS, lang: 'en' }))
    expect(en[0]?.[4]).toBe('Allowed')
    expect(en[1]?.[4]).toBe('Refused this did not happen')
    expect(en[1]?.[2]).toBe('not named Role: Healthcare professional')
  })

  it('unknown codes get a generic label with the code, and input that is no code is not printed at all', () => {
    const html = renderAccessLogHtml(
      [
        entry({ eventType: 'dossier.copy', organisationType: 'ggd', role: 'huisarts', purpose: 'research', legalBasis: 'VITAL_INTEREST' }),
        entry({ eventType: 'x <b>bold</b> "quoted" and a long sentence', organisationType: '<i>', role: '', purpose: 'a b', legalBasis: '${x}' }),
      ],
      OPTIONS,
    )
    const cells = rows(html)
    expect(cells[0]?.slice(1)).toEqual([
      'Andere organisatie (code: ggd) URA 90000003',
      'Test escort nurse Rol: Andere rol (code: huisarts) BIG-nummer 01000000330',
      'Andere handeling (code: dossier.copy)',
      'Toegestaan',
      'Doel: Ander doel (code: research) Grondslag: Andere grondslag (code: VITAL_INTEREST)',
    ])
    expect(cells[1]?.[3]).toBe('Andere handeling (onleesbare code)')
    expect(cells[1]?.[1]).toContain('Andere organisatie (onleesbare code)')
    expect(cells[1]?.[2]).toContain('Rol: Andere rol (onleesbare code)')
    expect(cells[1]?.[5]).toBe('Doel: Ander doel (onleesbare code) Grondslag: Andere grondslag (onleesbare code)')
    expect(html).not.toContain('<b>')
    expect(html).not.toContain('<i>')
    expect(html).not.toContain('${x}')
    // An inherited property name is no known code either.
    expect(rows(renderAccessLogHtml([entry({ eventType: 'constructor', role: 'toString' })], OPTIONS))[0]?.[3]).toBe('Andere handeling (code: constructor)')
  })
})

describe('renderAccessLogHtml: escaping', () => {
  it('escapeHtml escapes the five HTML specials and the attribute breakers', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href&#61;&quot;x&quot; onclick&#61;&#39;y&#39;&gt;&amp;&lt;/a&gt;')
    expect(escapeHtml('`')).toBe('&#96;')
  })

  it('a hostile user name, organisation, BIG number and patient id render as inert text', () => {
    const html = renderAccessLogHtml(
      [entry({ userName: '<script>alert(1)</script>', organisation: '"><img src=x onerror=1>', bigNumber: "'><svg onload=1>" })],
      { ...OPTIONS, patientId: '</title><script>alert(2)</script>' },
    )
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('URA &quot;&gt;&lt;img src&#61;x onerror&#61;1&gt;')
    expect(html).toContain('BIG-nummer &#39;&gt;&lt;svg onload&#61;1&gt;')
    expect(html).toContain('&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;')
    expect(html.toLowerCase()).not.toContain('<script')
    expect(html.toLowerCase()).not.toContain('<img')
    expect(html.toLowerCase()).not.toContain('<svg')
    expect(html).not.toMatch(/\son\w+=/i)
    const cells = rows(html)
    expect(cells[0]?.[2]).toBe("<script>alert(1)</script> Rol: Zorgverlener BIG-nummer '><svg onload=1>")
    expect(cells[0]?.[1]).toBe('Medische escorte (zorg tijdens de reis) URA "><img src=x onerror=1>')
  })

  it('the page is self-contained: no scripts, no external resources', () => {
    const html = renderAccessLogHtml([entry({})], OPTIONS)
    expect(html).toMatch(/^<!doctype html>\n<html lang="nl">/)
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|src=|href=|url\(|@import/i)
    expect(html).toContain('@page { size: A4')
    expect(html).toContain('thead { display: table-header-group; }')
    expect(html).toMatch(/<caption>[^<]+<\/caption>/)
    expect(html.match(/<th scope="col">/g)).toHaveLength(6)
  })
})

describe('renderAccessLogHtml: page content', () => {
  it('an empty list says so in a sentence, in both languages, with no table', () => {
    const nl = renderAccessLogHtml([], OPTIONS)
    expect(visibleText(nl)).toContain(
      'Deze lijst is leeg: in deze periode heeft niemand uw medische gegevens in Overdracht beschikbaar gesteld, bekeken of geprobeerd te bekijken.',
    )
    expect(nl).not.toContain('<table>')
    const en = renderAccessLogHtml([], { ...OPTIONS, lang: 'en' })
    expect(visibleText(en)).toContain('This list is empty: in this period nobody made your medical data available in Overdracht, looked at it, or tried to.')
  })

  it('shows the title, explanation, rights, patient reference, period and generation time', () => {
    const options = { ...OPTIONS, from: new Date('2026-10-31T23:00:00Z'), to: new Date('2026-11-30T23:00:00Z') }
    const nl = visibleText(renderAccessLogHtml([entry({})], options))
    expect(nl).toContain('Wie heeft uw medische gegevens beschikbaar gesteld of ingezien')
    expect(nl).toContain('Uw nummer in Overdracht pat-7f3a (geen BSN of V-nummer)')
    expect(nl).toContain('Periode Van 1 november 2026, 00:00 tot 1 december 2026, 00:00')
    expect(nl).toContain('Deze lijst is gemaakt op 24 november 2026, 10:15 . Alle tijden zijn Nederlandse tijd.')
    for (const right of ['Inzage.', 'Correctie.', 'Klacht.', 'privacyfunctionaris']) expect(nl).toContain(right)
    const en = visibleText(renderAccessLogHtml([entry({})], { ...options, lang: 'en' }))
    expect(en).toContain('Who made your medical data available or looked at it')
    expect(en).toContain('Period From 1 November 2026, 00:00 until 1 December 2026, 00:00')
    expect(en).toContain('This list was made on 24 November 2026, 10:15 . All times are Dutch time (Amsterdam).')
    for (const right of ['Access.', 'Correction.', 'Complaint.', 'privacy officer']) expect(en).toContain(right)

    const open = visibleText(renderAccessLogHtml([], OPTIONS))
    expect(open).toContain('Periode Van het begin van het logboek tot het moment dat deze lijst is gemaakt')
  })

  it('counts made available, opened, refused and emergency accesses above the table', () => {
    const list = [
      entry({ eventType: 'dossier.upload' }),
      entry({ eventType: 'dossier.upload', outcome: 'deny' }),
      entry({ eventType: 'dossier.read' }),
      entry({ eventType: 'perspective.read', role: 'regievoerder' }),
      entry({ eventType: 'dossier.read', outcome: 'deny', role: 'regievoerder' }),
      entry({ eventType: 'dossier.read', legalBasis: 'CONFLICT_OF_DUTIES', emergency: true }),
      entry({ eventType: 'consent.record' }),
    ]
    expect(countAccessLog(list)).toEqual({ madeAvailable: 1, opened: 3, refused: 2, emergency: 1, total: 7 })
    const html = renderAccessLogHtml(list, OPTIONS)
    const summary = visibleText(/<ul class="summary">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '').trim()
    expect(summary).toBe('1 keer Beschikbaar gesteld 3 keer Ingezien (dossier of reisadvies) 2 keer Geweigerd 1 keer Noodtoegang 7 keer Alle regels samen')
    expect(html.indexOf('class="summary"')).toBeLessThan(html.indexOf('<table>'))
    const en = visibleText(/<ul class="summary">([\s\S]*?)<\/ul>/.exec(renderAccessLogHtml(list, { ...OPTIONS, lang: 'en' }))?.[1] ?? '').trim()
    expect(en).toBe('1 time Made available 3 times Opened (dossier or travel advice) 2 times Refused 1 time Emergency access 7 times All rows together')
  })

  it('rows are chronological whatever order they come in, and say how many there are', () => {
    const html = renderAccessLogHtml(
      [entry({ at: new Date('2026-11-24T12:00:00Z'), eventType: 'dossier.read' }), entry({ at: new Date('2026-11-24T08:00:00Z'), eventType: 'dossier.upload' })],
      OPTIONS,
    )
    expect(rows(html).map((r) => r[0])).toEqual(['24 november 2026, 09:00', '24 november 2026, 13:00'])
    expect(html).toContain('<time datetime="2026-11-24T08:00:00.000Z">24 november 2026, 09:00</time>')
    expect(visibleText(html)).toContain('Alle gebeurtenissen, van oud naar nieuw (2 regels)')
  })
})

describe('Amsterdam local time', () => {
  it('across the spring DST change: 00:30Z is 01:30 CET and 01:30Z is 03:30 CEST', () => {
    const html = renderAccessLogHtml([entry({ at: new Date('2026-03-29T00:30:00Z') }), entry({ at: new Date('2026-03-29T01:30:00Z') })], OPTIONS)
    expect(rows(html).map((r) => r[0])).toEqual(['29 maart 2026, 01:30', '29 maart 2026, 03:30'])
    const en = renderAccessLogHtml([entry({ at: new Date('2026-03-29T00:30:00Z') }), entry({ at: new Date('2026-03-29T01:30:00Z') })], { ...OPTIONS, lang: 'en' })
    expect(rows(en).map((r) => r[0])).toEqual(['29 March 2026, 01:30', '29 March 2026, 03:30'])
  })

  it('across the autumn DST change the same local hour shows twice, in order', () => {
    expect(formatDateTime(new Date('2026-10-25T00:30:00Z'), 'nl')).toBe('25 oktober 2026, 02:30')
    expect(formatDateTime(new Date('2026-10-25T01:30:00Z'), 'nl')).toBe('25 oktober 2026, 02:30')
    expect(formatDateTime(new Date('2026-10-25T02:30:00Z'), 'en')).toBe('25 October 2026, 03:30')
  })

  it('midnight UTC is still the previous evening or next morning in Amsterdam, and an invalid date does not throw', () => {
    expect(formatDateTime(new Date('2026-12-31T23:30:00Z'), 'nl')).toBe('1 januari 2027, 00:30')
    expect(formatDateTime(new Date('2026-07-01T22:05:00Z'), 'en')).toBe('2 July 2026, 00:05')
    expect(formatDateTime(new Date('nonsense'), 'nl')).toBe('onbekende tijd')
    expect(() => renderAccessLogHtml([entry({ at: new Date('nonsense') })], OPTIONS)).not.toThrow()
  })
})
