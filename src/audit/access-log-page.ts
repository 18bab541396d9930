import type { AccessLogEntry } from './access-log.js'

export interface AccessLogPageOptions {
  lang: 'nl' | 'en'
  patientId: string
  generatedAt: Date
  from?: Date
  to?: Date
}

/**
 * The patient's access log as a printable page (Wabvpz art. 15e; NEN 7513 ch. 9): chronological,
 * per event when, who (organisation, role, person), what was done to which data, allowed or
 * refused, on what basis, and whether emergency access (break-the-glass) was used.
 *
 * Written for people who get it on paper and may read Dutch or English as a second language:
 * short sentences, words instead of codes, dates as people write them in Europe/Amsterdam time.
 * Self-contained: inline CSS only, no scripts, no external resources (the route serves it with
 * `default-src 'none'; style-src 'unsafe-inline'`). Every interpolated value goes through
 * `escapeHtml`.
 */

type Lang = 'nl' | 'en'
type Words = Record<Lang, string>

/** Escapes text for HTML element content and for (quoted) attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`=]/g, (ch) => ENTITIES[ch] ?? ch)
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
}

const TIME_ZONE = 'Europe/Amsterdam'

const EVENTS: Record<string, Words> = {
  'dossier.upload': { nl: 'Dossier beschikbaar gesteld', en: 'Made the dossier available' },
  'dossier.read': { nl: 'Dossier ingezien', en: 'Opened the dossier' },
  'patient.search': { nl: 'Naar u gezocht in de lijst van patiënten', en: 'Searched for you in the patient list' },
  'patient.read': { nl: 'Uw gegevens in de lijst van patiënten opgevraagd', en: 'Looked you up in the patient list' },
  'consent.record': { nl: 'Uw toestemming (of weigering) vastgelegd', en: 'Recorded your consent (or refusal)' },
  'consent.withdraw': { nl: 'Intrekking van uw toestemming vastgelegd', en: 'Recorded that you withdrew your consent' },
  'consent.read': { nl: 'Uw toestemming bekeken', en: 'Looked at your consent' },
  'consent.token': { nl: 'Toegangscode voor uw dossier gemaakt', en: 'Made an access code for your dossier' },
  'consent.form-check': { nl: 'Toestemmingsformulieren gecontroleerd', en: 'Checked the consent forms' },
  'perspective.read': {
    nl: 'Reisadvies (handelingsperspectief) ingezien',
    en: 'Looked at the travel advice (handelingsperspectief)',
  },
  'task.create': { nl: 'Overdracht of vertrek aangekondigd (taak gemaakt)', en: 'Announced a transfer or departure (task made)' },
  'task.update': { nl: 'Taak voor overdracht of vertrek bijgewerkt', en: 'Updated a transfer or departure task' },
  'task.read': { nl: 'Taak voor overdracht of vertrek bekeken', en: 'Looked at a transfer or departure task' },
  'task.search': { nl: 'Gezocht naar taken voor overdracht of vertrek', en: 'Searched transfer or departure tasks' },
  'audit.read': { nl: 'Deze lijst (het logboek) bekeken', en: 'Looked at this list (the log)' },
  'emergency.review': { nl: 'Noodtoegang gecontroleerd', en: 'Checked an emergency access' },
  'patient.erase': { nl: 'Uw gegevens uit Overdracht verwijderd', en: 'Deleted your data from Overdracht' },
  'retention.run': { nl: 'Bewaartermijn gecontroleerd (automatisch)', en: 'Checked how long data may be kept (automatic)' },
}

const ORG_TYPES: Record<string, Words> = {
  gza: { nl: 'GZA (zorg voor asielzoekers)', en: 'GZA (healthcare for asylum seekers)' },
  'dji-medical': { nl: 'Medische dienst DJI (detentie)', en: 'DJI medical service (detention)' },
  'medical-escort': { nl: 'Medische escorte (zorg tijdens de reis)', en: 'Medical escort (care during the journey)' },
  dtv: { nl: 'DT&V (Dienst Terugkeer en Vertrek)', en: 'DT&V (Repatriation and Departure Service)' },
  dvo: { nl: 'DV&O (Dienst Vervoer en Ondersteuning)', en: 'DV&O (Transport and Support Service)' },
  kmar: { nl: 'Koninklijke Marechaussee', en: 'Royal Netherlands Marechaussee (KMar)' },
  coa: { nl: 'COA (opvang van asielzoekers)', en: 'COA (reception of asylum seekers)' },
  system: { nl: 'Overdracht (dit systeem zelf)', en: 'Overdracht (this system itself)' },
}

const ROLES: Record<string, Words> = {
  caregiver: { nl: 'Zorgverlener', en: 'Healthcare professional' },
  regievoerder: { nl: 'Regievoerder (regelt het vertrek)', en: 'Departure officer (regievoerder)' },
  escort: { nl: 'Begeleider tijdens vervoer', en: 'Escort officer during transport' },
  casemanager: { nl: 'Casemanager (opvang)', en: 'Case manager (reception)' },
  'privacy-officer': { nl: 'Privacyfunctionaris', en: 'Privacy officer' },
  system: { nl: 'Automatisch, geen persoon', en: 'Automatic, not a person' },
}

const PURPOSES: Record<string, Words> = {
  handover: { nl: 'Overdracht van zorg', en: 'Handover of care' },
  'action-perspective': { nl: 'Reisadvies voor vertrek en vervoer', en: 'Travel advice for departure and transport' },
  retention: { nl: 'Bewaartermijn', en: 'Keeping data only as long as allowed' },
}

const LEGAL_BASES: Record<string, Words> = {
  EXPLICIT_CONSENT: { nl: 'Uw toestemming', en: 'Your consent' },
  CONFLICT_OF_DUTIES: { nl: 'Noodsituatie (conflict van plichten)', en: 'Emergency (conflict of duties)' },
  DIRECT_TREATMENT: { nl: 'Uw behandeling (behandelrelatie)', en: 'Your treatment (treatment relationship)' },
  LEGAL_OBLIGATION: { nl: 'Wettelijke plicht', en: 'Legal obligation' },
}

const T = {
  title: { nl: 'Wie heeft uw medische gegevens beschikbaar gesteld of ingezien', en: 'Who made your medical data available or looked at it' },
  intro: {
    nl: [
      'Dit is een lijst van iedereen die uw medische gegevens in Overdracht beschikbaar heeft gesteld of heeft bekeken. Ook pogingen die zijn geweigerd staan erin.',
      'Overdracht is het systeem waarmee zorgverleners uw medische gegevens aan elkaar doorgeven als u naar een andere plaats gaat, bijvoorbeeld naar een andere opvang, naar detentie of bij vertrek uit Nederland.',
      'Elke regel in de tabel is één keer dat iemand iets met uw gegevens deed of probeerde te doen. De oudste regel staat bovenaan. Onder de tabel staat wat de woorden betekenen en wat uw rechten zijn.',
    ],
    en: [
      'This is a list of everyone who made your medical data available in Overdracht or looked at it. Attempts that were refused are in it too.',
      'Overdracht is the system care providers use to pass your medical data to each other when you move to another place, for example to another reception centre, to detention, or when you leave the Netherlands.',
      'Each row in the table is one time someone did something with your data, or tried to. The oldest row is at the top. Below the table you find what the words mean and what your rights are.',
    ],
  },
  patient: { nl: 'Uw nummer in Overdracht', en: 'Your number in Overdracht' },
  patientNote: { nl: '(geen BSN of V-nummer)', en: '(not your BSN or V-number)' },
  period: { nl: 'Periode', en: 'Period' },
  generated: { nl: 'Deze lijst is gemaakt op', en: 'This list was made on' },
  periodFrom: { nl: 'van', en: 'from' },
  periodTo: { nl: 'tot', en: 'until' },
  periodStart: { nl: 'het begin van het logboek', en: 'the start of the log' },
  periodEnd: { nl: 'het moment dat deze lijst is gemaakt', en: 'the moment this list was made' },
  timeNote: { nl: 'Alle tijden zijn Nederlandse tijd.', en: 'All times are Dutch time (Amsterdam).' },
  summary: { nl: 'Samenvatting', en: 'Summary' },
  countAvailable: { nl: 'Beschikbaar gesteld', en: 'Made available' },
  countOpened: { nl: 'Ingezien (dossier of reisadvies)', en: 'Opened (dossier or travel advice)' },
  countRefused: { nl: 'Geweigerd', en: 'Refused' },
  countEmergency: { nl: 'Noodtoegang', en: 'Emergency access' },
  countTotal: { nl: 'Alle regels samen', en: 'All rows together' },
  times: { nl: ['keer', 'keer'], en: ['time', 'times'] },
  eventsHeading: { nl: 'Wat er met uw gegevens is gebeurd', en: 'What happened with your data' },
  caption: { nl: 'Alle gebeurtenissen, van oud naar nieuw', en: 'All events, oldest first' },
  rows: { nl: ['regel', 'regels'], en: ['row', 'rows'] },
  colWhen: { nl: 'Datum en tijd', en: 'Date and time' },
  colOrg: { nl: 'Organisatie', en: 'Organisation' },
  colWho: { nl: 'Persoon en rol', en: 'Person and role' },
  colWhat: { nl: 'Wat gebeurde er', en: 'What happened' },
  form: { nl: 'Formulier', en: 'Form' },
  formVersion: { nl: 'versie', en: 'version' },
  patientLanguage: { nl: 'Uw taal', en: 'Your language' },
  interpreter: { nl: 'Tolk', en: 'Interpreter' },
  otherInterpreter: { nl: 'Anders', en: 'Other' },
  colOutcome: { nl: 'Toegestaan of geweigerd', en: 'Allowed or refused' },
  colBasis: { nl: 'Op grond waarvan', en: 'On what basis' },
  permit: { nl: 'Toegestaan', en: 'Allowed' },
  deny: { nl: 'Geweigerd', en: 'Refused' },
  denyNote: { nl: 'dit is niet gebeurd', en: 'this did not happen' },
  emergency: { nl: 'Noodtoegang', en: 'Emergency access' },
  noName: { nl: 'onbekend', en: 'not named' },
  systemActor: { nl: 'Overdracht (automatisch)', en: 'Overdracht (automatic)' },
  role: { nl: 'Rol', en: 'Role' },
  big: { nl: 'BIG-nummer', en: 'BIG number' },
  ura: { nl: 'URA', en: 'URA' },
  purpose: { nl: 'Doel', en: 'Purpose' },
  basis: { nl: 'Grondslag', en: 'Legal basis' },
  noBasisDeny: { nl: 'Geen (niet toegestaan)', en: 'None (not allowed)' },
  noBasis: { nl: 'Niet vastgelegd', en: 'Not recorded' },
  otherEvent: { nl: 'Andere handeling', en: 'Other action' },
  otherOrg: { nl: 'Andere organisatie', en: 'Other organisation' },
  otherRole: { nl: 'Andere rol', en: 'Other role' },
  otherPurpose: { nl: 'Ander doel', en: 'Other purpose' },
  otherBasis: { nl: 'Andere grondslag', en: 'Other legal basis' },
  code: { nl: 'code', en: 'code' },
  unreadableCode: { nl: 'onleesbare code', en: 'unreadable code' },
  unknownTime: { nl: 'onbekende tijd', en: 'unknown time' },
  empty: {
    nl: 'Deze lijst is leeg: in deze periode heeft niemand uw medische gegevens in Overdracht beschikbaar gesteld, bekeken of geprobeerd te bekijken.',
    en: 'This list is empty: in this period nobody made your medical data available in Overdracht, looked at it, or tried to.',
  },
  wordsHeading: { nl: 'Wat betekenen de woorden', en: 'What the words mean' },
  words: {
    nl: [
      ['Toegestaan', 'de persoon mocht dit doen en heeft het gedaan.'],
      ['Geweigerd', 'de persoon mocht dit niet doen, dus het is niet gebeurd. Wie geweigerd werd, heeft uw gegevens niet gekregen.'],
      ['Noodtoegang', 'een zorgverlener heeft uw dossier zonder uw toestemming geopend, omdat er een noodsituatie was. Hij of zij moest opschrijven waarom. De privacyfunctionaris controleert elke noodtoegang.'],
      ['Reisadvies (handelingsperspectief)', 'korte aanwijzingen voor vertrek en vervoer, zoals of u mag reizen of begeleiding nodig heeft. Hierin staat geen diagnose.'],
      ['Rol', 'het werk dat de persoon doet, bijvoorbeeld zorgverlener of regievoerder.'],
      ['URA en BIG-nummer', 'het nummer van de zorgorganisatie en het nummer waarmee een zorgverlener officieel is ingeschreven.'],
    ],
    en: [
      ['Allowed', 'the person was allowed to do this and did it.'],
      ['Refused', 'the person was not allowed to do this, so it did not happen. Someone who was refused did not get your data.'],
      ['Emergency access', 'a healthcare professional opened your dossier without your consent because there was an emergency. They had to write down why. The privacy officer checks every emergency access.'],
      ['Travel advice (handelingsperspectief)', 'short instructions for departure and transport, for example whether you can travel or need someone with you. It contains no diagnosis.'],
      ['Role', 'the work the person does, for example healthcare professional or departure officer.'],
      ['URA and BIG number', 'the number of the care organisation, and the number under which a healthcare professional is officially registered.'],
    ],
  },
  rightsHeading: { nl: 'Uw rechten', en: 'Your rights' },
  rights: {
    nl: [
      ['Inzage', 'U mag uw eigen medische gegevens en deze lijst altijd gratis bekijken en er een kopie van krijgen.'],
      ['Correctie', 'Klopt er iets niet in uw medische gegevens? Vraag de zorgverlener die ze heeft gemaakt om ze te verbeteren of aan te vullen.'],
      ['Klacht', 'Denkt u dat iemand uw gegevens heeft bekeken die dat niet mocht? Of klopt deze lijst niet? Zeg het tegen de privacyfunctionaris. Die zoekt het voor u uit. U kunt ook een klacht indienen bij de Autoriteit Persoonsgegevens.'],
    ],
    en: [
      ['Access', 'You may always see your own medical data and this list for free, and get a copy.'],
      ['Correction', 'Is something wrong in your medical data? Ask the care provider who wrote it to correct it or add to it.'],
      ['Complaint', 'Do you think someone looked at your data who was not allowed to? Or is this list wrong? Tell the privacy officer, who will look into it for you. You can also complain to the Dutch Data Protection Authority (Autoriteit Persoonsgegevens).'],
    ],
  },
  rightsContact: {
    nl: 'Weet u niet hoe u de privacyfunctionaris bereikt? Vraag het aan uw zorgverlener of aan de persoon die u deze lijst gaf.',
    en: 'Do you not know how to reach the privacy officer? Ask your care provider or the person who gave you this list.',
  },
  footer: {
    nl: 'Deze lijst is gemaakt volgens artikel 15e van de Wet aanvullende bepalingen verwerking persoonsgegevens in de zorg (Wabvpz) en NEN 7513.',
    en: 'This list was made under article 15e of the Dutch Act on additional provisions for processing personal data in healthcare (Wabvpz) and NEN 7513.',
  },
  page: { nl: 'Pagina', en: 'Page' },
  of: { nl: 'van', en: 'of' },
} as const

const SAFE_CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/

/** A known code in words; an unknown one as a generic label plus the code, only when it looks like a code. */
function inWords(table: Record<string, Words>, code: string | undefined, other: Words, lang: Lang): string {
  const known = code !== undefined && Object.hasOwn(table, code) ? table[code] : undefined
  if (known) return escapeHtml(known[lang])
  const shown = code !== undefined && SAFE_CODE.test(code) ? `${T.code[lang]}: ${code}` : T.unreadableCode[lang]
  return `${escapeHtml(other[lang])} <span class="code">(${escapeHtml(shown)})</span>`
}

const languageNames = { nl: new Intl.DisplayNames(['nl'], { type: 'language', fallback: 'code' }), en: new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' }) }

/** A language code in words ("Tigrinya", "Dari"); the code itself when it has no name. */
export function languageName(code: string, lang: Lang): string {
  try {
    return languageNames[lang].of(code) ?? code
  } catch {
    return code
  }
}

const INTERPRETER_MODES: Record<string, Words> = {
  none: { nl: 'geen tolk', en: 'no interpreter' },
  'in-person': { nl: 'tolk aanwezig', en: 'interpreter present' },
  phone: { nl: 'tolk via de telefoon', en: 'interpreter by phone' },
  video: { nl: 'tolk via video', en: 'interpreter by video' },
}

/** Under a recorded consent: the form and its language, the patient's language, the interpreter. */
function consentLines(e: AccessLogEntry, lang: Lang): string {
  const c = e.consent
  if (!c) return ''
  const line = (label: Words, value: string) => `<span class="line"><span class="label">${escapeHtml(label[lang])}:</span> ${value}</span>`
  const out: string[] = []
  if (c.form) {
    const version = c.form.version ? ` ${escapeHtml(T.formVersion[lang])} ${escapeHtml(c.form.version)}` : ''
    const language = c.form.language ? `, ${escapeHtml(languageName(c.form.language, lang))}` : ''
    out.push(line(T.form, `${escapeHtml(c.form.type)}${version}${language}`))
  }
  if (c.patientLanguage) out.push(line(T.patientLanguage, escapeHtml(languageName(c.patientLanguage, lang))))
  if (c.interpreter) {
    const language = c.interpreter.language ? ` (${escapeHtml(languageName(c.interpreter.language, lang))})` : ''
    out.push(line(T.interpreter, `${inWords(INTERPRETER_MODES, c.interpreter.mode, T.otherInterpreter, lang)}${language}`))
  }
  return out.join('')
}

/** "24 november 2026, 10:15" / "24 November 2026, 10:15", in Europe/Amsterdam time. */
export function formatDateTime(at: Date, lang: Lang): string {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) return T.unknownTime[lang]
  const parts = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', {
    timeZone: TIME_ZONE,
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at)
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? ''
  return `${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')}`
}

function isoOrEmpty(at: Date): string {
  return at instanceof Date && !Number.isNaN(at.getTime()) ? at.toISOString() : ''
}

function timeElement(at: Date, lang: Lang): string {
  const iso = isoOrEmpty(at)
  const text = escapeHtml(formatDateTime(at, lang))
  return iso ? `<time datetime="${escapeHtml(iso)}">${text}</time>` : text
}

function count(n: number, unit: readonly [string, string]): string {
  return `${n} ${n === 1 ? unit[0] : unit[1]}`
}

const OPENED = new Set(['dossier.read', 'perspective.read'])

export interface AccessLogCounts {
  madeAvailable: number
  opened: number
  refused: number
  emergency: number
  total: number
}

export function countAccessLog(entries: AccessLogEntry[]): AccessLogCounts {
  return {
    madeAvailable: entries.filter((e) => e.outcome === 'permit' && e.eventType === 'dossier.upload').length,
    opened: entries.filter((e) => e.outcome === 'permit' && OPENED.has(e.eventType)).length,
    refused: entries.filter((e) => e.outcome !== 'permit').length,
    emergency: entries.filter((e) => e.emergency === true).length,
    total: entries.length,
  }
}

function row(e: AccessLogEntry, lang: Lang): string {
  const system = e.role === 'system'
  const denied = e.outcome !== 'permit'
  const person = system
    ? escapeHtml(T.systemActor[lang])
    : e.userName
      ? escapeHtml(e.userName)
      : `<span class="unknown">${escapeHtml(T.noName[lang])}</span>`
  const big = e.bigNumber ? `<span class="small">${escapeHtml(T.big[lang])} ${escapeHtml(e.bigNumber)}</span>` : ''
  const ura = e.organisationType !== 'system' && e.organisation ? `<span class="small">${escapeHtml(T.ura[lang])} ${escapeHtml(e.organisation)}</span>` : ''
  const legal = e.legalBasis
    ? inWords(LEGAL_BASES, e.legalBasis, T.otherBasis, lang)
    : escapeHtml(denied ? T.noBasisDeny[lang] : T.noBasis[lang])
  const flag = e.emergency ? `<strong class="flag">${escapeHtml(T.emergency[lang])}</strong>` : ''
  const classes = [denied ? 'denied' : '', e.emergency ? 'emergency' : ''].filter(Boolean).join(' ')
  return [
    `<tr${classes ? ` class="${escapeHtml(classes)}"` : ''}>`,
    `<td class="when">${timeElement(e.at, lang)}</td>`,
    `<td>${inWords(ORG_TYPES, e.organisationType, T.otherOrg, lang)}${ura}</td>`,
    `<td><span class="person">${person}</span><span class="role">${escapeHtml(T.role[lang])}: ${inWords(ROLES, e.role, T.otherRole, lang)}</span>${big}</td>`,
    `<td class="what">${inWords(EVENTS, e.eventType, T.otherEvent, lang)}${consentLines(e, lang)}</td>`,
    denied
      ? `<td class="outcome"><strong class="refused">${escapeHtml(T.deny[lang])}</strong><span class="small">${escapeHtml(T.denyNote[lang])}</span></td>`
      : `<td class="outcome">${escapeHtml(T.permit[lang])}</td>`,
    `<td>${flag}<span class="line"><span class="label">${escapeHtml(T.purpose[lang])}:</span> ${inWords(PURPOSES, e.purpose, T.otherPurpose, lang)}</span>` +
      `<span class="line"><span class="label">${escapeHtml(T.basis[lang])}:</span> ${legal}</span></td>`,
    '</tr>',
  ].join('')
}

const css = (lang: Lang) => `
@page { size: A4 landscape; margin: 12mm 12mm 14mm 12mm;
  @bottom-right { content: "${T.page[lang]} " counter(page) " ${T.of[lang]} " counter(pages); font: 9pt/1.2 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #333; } }
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 60rem; padding: 1.5rem; color: #111; background: #fff;
  font: 12pt/1.45 "DejaVu Sans", "Liberation Sans", Verdana, Arial, sans-serif; }
h1 { font-size: 18pt; line-height: 1.25; margin: 0 0 .6rem; }
h2 { font-size: 13.5pt; margin: 1.4rem 0 .5rem; break-after: avoid; }
p { margin: 0 0 .5rem; max-width: 48rem; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .9rem 0; padding: .6rem .8rem; border: 1px solid #555; }
.meta dt { font-weight: bold; }
.meta dd { margin: 0; }
.patient-id { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 11pt; word-break: break-all; }
.summary { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0; padding: 0; list-style: none; }
.summary li { border: 2px solid #555; padding: .35rem .7rem; min-width: 9.5rem; }
.summary .n { display: block; font-size: 15pt; font-weight: bold; }
.summary li.alert { border: 2px solid #8b0000; }
table { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 11pt; line-height: 1.3; }
caption { text-align: left; font-weight: bold; padding: 0 0 .4rem; }
thead { display: table-header-group; }
th, td { border: 1px solid #444; padding: .25rem .4rem; vertical-align: top; text-align: left; overflow-wrap: break-word; }
thead th { background: #e6e6e6; font-size: 10.5pt; }
tr { break-inside: avoid; page-break-inside: avoid; }
col.when { width: 13%; }
col.org { width: 17%; }
col.who { width: 18%; }
col.what { width: 20%; }
col.outcome { width: 12%; }
col.basis { width: 20%; }
.small { display: block; font-size: 9.5pt; color: #333; margin-top: .1rem; }
.code { font-size: 9.5pt; color: #333; }
.person { display: block; font-weight: bold; }
.role { display: block; }
.unknown { font-style: italic; font-weight: normal; }
.line { display: block; }
.label { color: #333; }
.refused { display: inline-block; font-weight: bold; }
tr.denied td { background: #f3f3f3; }
tr.emergency td { border-top: 3px solid #8b0000; border-bottom: 3px solid #8b0000; }
.flag { display: inline-block; margin-bottom: .25rem; padding: .05rem .4rem; border: 2px solid #8b0000; color: #8b0000;
  font-weight: bold; text-transform: uppercase; letter-spacing: .03em; }
.empty { padding: .8rem; border: 1px solid #555; font-weight: bold; }
dl.words { margin: 0; }
dl.words dt { font-weight: bold; margin-top: .35rem; }
dl.words dd { margin: 0 0 0 1.2rem; }
ul.rights { margin: 0; padding-left: 1.2rem; }
ul.rights li { margin-bottom: .35rem; }
footer { margin-top: 1.4rem; padding-top: .5rem; border-top: 1px solid #555; font-size: 10pt; color: #333; }
@media print {
  body { max-width: none; padding: 0 1px; font-size: 11.5pt; }
  header p, section.explain p { max-width: 60rem; }
  thead th, tr.denied td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section.explain { break-inside: avoid; }
}
`

export function renderAccessLogHtml(entries: AccessLogEntry[], options: AccessLogPageOptions): string {
  const lang: Lang = options.lang === 'en' ? 'en' : 'nl'
  const sorted = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at.getTime() - b.e.at.getTime() || a.i - b.i)
    .map(({ e }) => e)
  const counts = countAccessLog(sorted)
  const title = T.title[lang]

  const periodText = [
    `${T.periodFrom[lang]} ${options.from ? timeElement(options.from, lang) : escapeHtml(T.periodStart[lang])}`,
    `${T.periodTo[lang]} ${options.to ? timeElement(options.to, lang) : escapeHtml(T.periodEnd[lang])}`,
  ].join(' ')
  const capitalised = periodText.charAt(0).toUpperCase() + periodText.slice(1)

  const summaryItem = (label: string, n: number, alert = false) =>
    `<li${alert && n > 0 ? ' class="alert"' : ''}><span class="n">${escapeHtml(count(n, T.times[lang]))}</span>${escapeHtml(label)}</li>`

  const table = sorted.length
    ? [
        '<table>',
        `<caption>${escapeHtml(T.caption[lang])} (${escapeHtml(count(sorted.length, T.rows[lang]))})</caption>`,
        '<colgroup><col class="when"><col class="org"><col class="who"><col class="what"><col class="outcome"><col class="basis"></colgroup>',
        '<thead><tr>',
        ...[T.colWhen, T.colOrg, T.colWho, T.colWhat, T.colOutcome, T.colBasis].map((h) => `<th scope="col">${escapeHtml(h[lang])}</th>`),
        '</tr></thead>',
        '<tbody>',
        ...sorted.map((e) => row(e, lang)),
        '</tbody>',
        '</table>',
      ].join('\n')
    : `<p class="empty">${escapeHtml(T.empty[lang])}</p>`

  return `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${css(lang)}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
${T.intro[lang].map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
<dl class="meta">
<dt>${escapeHtml(T.patient[lang])}</dt><dd><span class="patient-id">${escapeHtml(options.patientId)}</span> ${escapeHtml(T.patientNote[lang])}</dd>
<dt>${escapeHtml(T.period[lang])}</dt><dd>${capitalised}</dd>
<dt>${escapeHtml(T.generated[lang])}</dt><dd>${timeElement(options.generatedAt, lang)}. ${escapeHtml(T.timeNote[lang])}</dd>
</dl>
</header>
<main>
<section aria-labelledby="summary-heading">
<h2 id="summary-heading">${escapeHtml(T.summary[lang])}</h2>
<ul class="summary">
${summaryItem(T.countAvailable[lang], counts.madeAvailable)}
${summaryItem(T.countOpened[lang], counts.opened)}
${summaryItem(T.countRefused[lang], counts.refused)}
${summaryItem(T.countEmergency[lang], counts.emergency, true)}
${summaryItem(T.countTotal[lang], counts.total)}
</ul>
</section>
<section aria-labelledby="events-heading">
<h2 id="events-heading">${escapeHtml(T.eventsHeading[lang])}</h2>
${table}
</section>
<section class="explain" aria-labelledby="words-heading">
<h2 id="words-heading">${escapeHtml(T.wordsHeading[lang])}</h2>
<dl class="words">
${T.words[lang].map(([term, meaning]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(meaning)}</dd>`).join('\n')}
</dl>
</section>
<section class="explain" aria-labelledby="rights-heading">
<h2 id="rights-heading">${escapeHtml(T.rightsHeading[lang])}</h2>
<ul class="rights">
${T.rights[lang].map(([right, text]) => `<li><strong>${escapeHtml(right)}.</strong> ${escapeHtml(text)}</li>`).join('\n')}
</ul>
<p>${escapeHtml(T.rightsContact[lang])}</p>
</section>
</main>
<footer>
<p>${escapeHtml(T.footer[lang])}</p>
</footer>
</body>
</html>
`
}
