import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes'
import { SYSTEM } from './systems.js'

/**
 * The OperationDefinitions of the service's own operations, served without a token at
 * `GET /fhir/OperationDefinition/{id}` and named by the CapabilityStatement. Each `url` ends in the
 * `id`, so the canonical URL and the path that serves the resource say the same.
 */
export const OPERATION_DEFINITION_BASE = 'https://overdracht.nl/fhir/OperationDefinition'

const CONSENT_TOKEN_HEADERS =
  'Request headers: `X-Consent-Token`, the consent token (from `POST /fhir/Consent` or `Consent/{id}/$token`); or ' +
  '`X-Emergency-Reason`, break-the-glass: a reason of at least 20 letters or digits in any script, which opens an emergency-access ' +
  "window for the caller (OVERDRACHT_EMERGENCY_WINDOW_MINUTES, default 60), audited and reviewed by the privacy officer of the patient's custodian. "

type Param = OperationDefinitionParameter
const inParam = (name: string, min: number, max: string, type: Param['type'] | undefined, documentation: string, extra: Partial<Param> = {}): Param => ({
  name,
  use: 'in',
  min,
  max,
  documentation,
  ...(type ? { type } : {}),
  ...extra,
})
const outParam = (name: string, min: number, max: string, type: Param['type'] | undefined, documentation: string, part?: Param[]): Param => ({
  name,
  use: 'out',
  min,
  max,
  documentation,
  ...(type ? { type } : {}),
  ...(part ? { part } : {}),
})

type Definition = Omit<OperationDefinition, 'resourceType' | 'url' | 'status' | 'kind' | 'id'> & { id: string }
const define = (d: Definition): OperationDefinition => ({
  resourceType: 'OperationDefinition',
  id: d.id,
  url: `${OPERATION_DEFINITION_BASE}/${d.id}`,
  name: d.name,
  title: d.title,
  status: 'active',
  kind: 'operation',
  publisher: 'Overdracht',
  description: d.description,
  affectsState: d.affectsState,
  code: d.code,
  ...(d.comment ? { comment: d.comment } : {}),
  resource: d.resource,
  system: d.system,
  type: d.type,
  instance: d.instance,
  parameter: d.parameter,
})

const patientHandover = define({
  id: 'Patient-handover',
  name: 'PatientHandover',
  title: "The patient's current dossier",
  description:
    "The patient's current dossier: the latest handover Bundle stored for the patient, minimised under the consents in force " +
    'for the caller (content a consent excludes for it is left out and the Bundle is tagged ' +
    '`https://overdracht.nl/fhir/CodeSystem/release-notice#content-withheld-under-consent`). For caregivers whom the BIG register ' +
    'confirms now, with a consent token naming them or emergency access; anyone else is answered 404, as if there were no dossier.',
  affectsState: false,
  code: 'handover',
  comment:
    'Invoked with `GET`, or with `POST` and an optional Parameters body. ' +
    CONSENT_TOKEN_HEADERS +
    'By POST the consent token may come as the `consent-token` parameter instead of the header (both, differently: 400); a token does not ' +
    'belong in a URL. An unknown or repeated parameter is refused (400); the emergency reason is a header only. ' +
    'An emergency read records the emergency-access window for review as well as the audit entry. ' +
    'Response headers: `ETag` and `Last-Modified` of the dossier version, `Content-Location` naming the Bundle.',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    inParam('consent-token', 0, '1', 'string', 'The consent token (a JWT of type consent+jwt) as a valueString, instead of the X-Consent-Token header; POST only.'),
    outParam('return', 1, '1', 'Bundle', 'The dossier: the stored document or collection Bundle, minimised for the caller.'),
  ],
})

const patientHandelingsperspectief = define({
  id: 'Patient-handelingsperspectief',
  name: 'PatientHandelingsperspectief',
  title: 'The handelingsperspectief: what to do, never why',
  description:
    'The handelingsperspectief of a patient for the caller: codes of https://overdracht.nl/fhir/CodeSystem/handelingsperspectief ' +
    '(fit to travel, medication along, medical escort, extra supervision, ...), never a diagnosis or medication name. Caregivers of the ' +
    'custodian, a receiver or a task party see every code; a regievoerder, escort or casemanager that is a task party sees the codes of its ' +
    'role under consent for `action-perspective`, otherwise only the safety-critical codes with a recorded legal ground. ' +
    'On an instance (`Patient/{id}/$handelingsperspectief`) or on the type with `identifier` (`Patient/$handelingsperspectief?identifier=system|value`).',
  affectsState: false,
  code: 'handelingsperspectief',
  comment:
    'Invoked with `GET` or with `POST` (a Parameters body on the type; on an instance no body or a Parameters without parameters). ' +
    'An unknown or repeated parameter is refused (400). A patient the service does not know is answered as one the caller has no ' +
    'relationship with. See docs/handelingsperspectief.md.',
  resource: ['Patient'],
  system: false,
  type: true,
  instance: true,
  parameter: [
    inParam(
      'identifier',
      0,
      '1',
      'string',
      `On the type only, and required there: the patient as \`system|value\`, with system ${SYSTEM.vNummer} (V-nummer) or ${SYSTEM.bsn} (BSN). ` +
        'A POSTed Parameters body may give it as valueString `system|value` or as valueIdentifier.',
      { searchType: 'token' },
    ),
    outParam('patient', 1, '1', 'Reference', 'The patient, as `Patient/{id}`.'),
    outParam('disclosure', 1, '1', 'code', 'What the caller is shown: `caregiver` (every code), `consent` (its role\'s codes, under consent) or `safety-critical-only`.'),
    outParam('flag', 0, '*', undefined, 'One code of the handelingsperspectief.', [
      outParam('code', 1, '1', 'Coding', 'The code, from https://overdracht.nl/fhir/CodeSystem/handelingsperspectief.'),
      outParam('value', 0, '1', 'Coding', 'Its value, for valued codes, from https://overdracht.nl/fhir/CodeSystem/handelingsperspectief-value.'),
      outParam('until', 0, '1', 'dateTime', 'Until when the code holds.'),
      outParam('safetyCritical', 1, '1', 'boolean', 'Whether the code is safety-critical.'),
      outParam('legalGround', 0, '1', 'code', 'The recorded legal ground for disclosure without consent (https://overdracht.nl/fhir/CodeSystem/disclosure-legal-ground).'),
    ]),
    outParam('issuer', 0, '1', 'Reference', 'The organisation (by URA) whose caregiver uploaded the dossier the perspective was derived from.'),
    outParam('issuerType', 0, '1', 'Coding', "The issuer's organisation type."),
    outParam('reviewerRole', 0, '1', 'code', 'The profession (BIG professional group) or role of the caregiver who uploaded it.'),
    outParam('reviewedAt', 0, '1', 'instant', 'When the perspective was last reviewed (the upload).'),
    outParam('plannedDeparture', 0, '1', 'dateTime', 'The next planned departure.'),
    outParam('stale', 1, '1', 'boolean', 'Whether the perspective is stale (see staleReason).'),
    outParam('staleReason', 0, '*', 'code', '`no-review`, `review-before-departure` or `max-age`.'),
    outParam('contact', 0, '1', undefined, "The issuing medical service's contact line.", [
      outParam('name', 1, '1', 'string', 'The name of the line.'),
      outParam('phone', 1, '1', 'ContactPoint', 'Its phone number.'),
      outParam('hours', 1, '1', 'string', 'When it answers.'),
    ]),
  ],
})

const patientAccessLog = define({
  id: 'Patient-access-log',
  name: 'PatientAccessLog',
  title: "The patient's access log (Wabvpz art. 15e)",
  description:
    "The patient's access log: who made the patient's data available, who accessed it and who was refused, as AuditEvents in a " +
    'collection Bundle or as a printable HTML page. For the privacy officer of an organisation that is or was the patient\'s custodian.',
  affectsState: false,
  code: 'access-log',
  comment:
    'Invoked with `GET`. `_format=html` (or `Accept: text/html` without `_format`) answers a printable page (`text/html`) instead of the Bundle.',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    inParam('_format', 0, '1', 'code', '`json` (default; also `application/fhir+json`) or `html` (also `text/html`).'),
    inParam('lang', 0, '1', 'code', 'The language of the printable page: `nl` (default) or `en`.'),
    inParam('date', 0, '*', 'string', 'When the access took place: a FHIR date search value with prefix `ge`, `gt`, `le`, `lt` or `eq` (default), e.g. `ge2026-11-01`; days are Amsterdam days. Repeat it for a range.', {
      searchType: 'date',
    }),
    outParam('return', 1, '1', 'Bundle', 'A `collection` Bundle of AuditEvents, oldest first.'),
  ],
})

const patientErase = define({
  id: 'Patient-erase',
  name: 'PatientErase',
  title: "Erase a patient's data",
  description:
    "An erasure request: the patient's data key is destroyed at once, so the patient's stored dossier versions can no longer be read; " +
    "the audit log is kept. For the privacy officer of the patient's current custodian.",
  affectsState: true,
  code: 'erase',
  comment: 'Invoked with `POST` and a Parameters body. It cannot be undone.',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    inParam('reason', 1, '1', 'string', 'Why the data is erased: at least 10 characters; kept in the audit log.'),
    outParam('return', 1, '1', 'OperationOutcome', 'An information issue saying how many dossier versions can no longer be read.'),
  ],
})

const consentToken = define({
  id: 'Consent-token',
  name: 'ConsentToken',
  title: 'A consent token for a named recipient',
  description:
    'Issues a consent token under a consent in force, for a named recipient and period, to hand to the caregiver who will read the ' +
    "dossier (in X-Consent-Token). For caregivers of the patient's custodian. A token fails on its next use once the consent is withdrawn. " +
    'The tokens are verified with the keys at /.well-known/jwks.json.',
  affectsState: false,
  code: 'token',
  comment:
    'Invoked with `POST` and a Parameters body only: a Period cannot travel in a URL, and neither should the token. Nothing but the audit ' +
    'entry is stored. A consent not in force (withdrawn, refused, superseded or outside its period) is answered 409.',
  resource: ['Consent'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    inParam(
      'recipient',
      0,
      '1',
      'Identifier',
      `Who may use the token: an organisation by URA (${SYSTEM.ura}), a caregiver by BIG number (${SYSTEM.big}) or an organisation type ` +
        `(${SYSTEM.organizationType}). Without it, any caregiver the policy allows.`,
    ),
    inParam(
      'period',
      0,
      '1',
      'Period',
      'When the token may be used: a start in the future delays it; the end (not in the past) bounds it, at most 30 days ahead. Without an end the token lasts OVERDRACHT_CONSENT_TOKEN_TTL_MINUTES.',
    ),
    outParam('token', 1, '1', 'string', 'The consent token (a JWT of type consent+jwt, ES256).'),
    outParam('expires', 1, '1', 'instant', 'When the token expires.'),
  ],
})

const consentFormCheck = define({
  id: 'Consent-form-check',
  name: 'ConsentFormCheck',
  title: 'The consent form check',
  description:
    "The caller's organisation's own patients (those it is custodian of now) with no consent in force and no refusal, refused without a " +
    'phone handover for a departure or transfer planned within `days`, or resting on an outdated form version. For caregivers of GZA and ' +
    'DJI organisations. See docs/consent.md.',
  affectsState: false,
  code: 'form-check',
  comment: 'Invoked with `GET`.',
  resource: ['Consent'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    inParam('days', 0, '1', 'integer', 'How far ahead to look for departures and transfers: a whole number from 0 to 90, default 7.'),
    outParam('days', 1, '1', 'integer', 'The days looked ahead.'),
    outParam('total', 1, '1', 'integer', 'The number of findings.'),
    outParam('finding', 0, '*', undefined, 'One case.', [
      outParam('kind', 1, '1', 'Coding', '`no-consent`, `refused-without-phone-handover` or `outdated-form`, from https://overdracht.nl/fhir/CodeSystem/consent-form-check.'),
      outParam('patient', 1, '1', 'Reference', 'The patient, with its V-nummer as identifier when known.'),
      outParam('task', 0, '1', 'Reference', 'The departure or transfer (refused-without-phone-handover).'),
      outParam('planned', 0, '1', 'dateTime', 'Its planned start.'),
      outParam('formVersion', 0, '1', 'string', 'The form version the consent rests on (outdated-form).'),
      outParam('currentFormVersion', 0, '1', 'string', 'The current version of that form.'),
    ]),
  ],
})

const taskEscortCard = define({
  id: 'Task-escort-card',
  name: 'TaskEscortCard',
  title: 'The escort card of a departure',
  description:
    'A compact signed token (JWS, ES256, type `escort-card+jwt`, verified with `/.well-known/jwks.json`) for a party of an open departure: ' +
    "the handelingsperspectief codes the caller's role may see (the same release as `$handelingsperspectief`), the planned departure, " +
    'an expiry shortly after it (OVERDRACHT_ESCORT_CARD_GRACE_HOURS), the issuer, the audience `urn:overdracht:escort-card` and a ' +
    'pseudonymous reference. Never a V-nummer, BSN, name, diagnosis or medication.',
  affectsState: false,
  code: 'escort-card',
  comment:
    'Invoked with `GET`. `_format=html` answers a printable card (`text/html`) with the QR code and the codes in words, Dutch and English. ' +
    'A card is revoked by its short expiry, and online at `GET /escort-card/status/{jti}` when the departure closes or the perspective is reviewed again. ' +
    'Verify offline at `GET /escort-card/verify` or with `npm run verify-card`.',
  resource: ['Task'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    inParam('_format', 0, '1', 'code', '`json` (default; also `application/fhir+json`) or `html` (also `text/html`).'),
    outParam('token', 1, '1', 'string', 'The card token (a compact JWS).'),
    outParam('expires', 1, '1', 'instant', 'When the card expires.'),
    outParam('plannedDeparture', 1, '1', 'dateTime', 'The planned departure.'),
    outParam('status', 1, '1', 'uri', 'The online status check of this card.'),
    outParam('code', 0, '*', 'Coding', 'Each code on the card, from https://overdracht.nl/fhir/CodeSystem/handelingsperspectief (a value as `code=value`).'),
  ],
})

/** Every OperationDefinition the service serves, in the order the CapabilityStatement names them. */
export const OPERATION_DEFINITIONS: readonly OperationDefinition[] = [
  patientHandover,
  patientHandelingsperspectief,
  patientAccessLog,
  patientErase,
  consentToken,
  consentFormCheck,
  taskEscortCard,
]
