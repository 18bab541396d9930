import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceOperation,
  CapabilityStatementRestResourceSearchParam,
  OperationDefinition,
} from '@medplum/fhirtypes'
import { OPERATION_DEFINITIONS } from './operation-definitions.js'
import { DOSSIER_VERSION_EXTENSION, SYSTEM } from './systems.js'
import { TASK_BUSINESS_STATUS_SYSTEM, TASK_BUSINESS_STATUSES, TASK_INPUT_SYSTEM, TASK_INPUT_TYPES } from '../tasks/task-resource.js'

export const CAPABILITY_STATEMENT_URL = 'https://overdracht.nl/fhir/CapabilityStatement/overdracht'

/** The extension on a released Bundle's meta that carries the patient's dossier version. */
export { DOSSIER_VERSION_EXTENSION }

const SECURITY_DESCRIPTION =
  'Every request under /fhir, except OPTIONS, this CapabilityStatement, the CodeSystems and the OperationDefinitions, needs ' +
  '`Authorization: Bearer <JWT>`: an access token from the caller organisation\'s identity provider (the configured issuer and audience, ' +
  'asymmetric signatures only, `typ` JWT or at+jwt), with the claims `sub`, `name`, `org` (the organisation\'s URA), `org_type` ' +
  '(gza, dji-medical, medical-escort, dtv, dvo, kmar, coa), `role` (caregiver, regievoerder, escort, casemanager, privacy-officer) and, ' +
  'for caregivers, `big` (11 digits). A caregiver is checked against the BIG register on every decision: the register, not the token, ' +
  'decides who is one. Missing or bad credentials: 401 with `WWW-Authenticate: Bearer`. ' +
  'Dossier reads (`GET Bundle/{id}`, `Patient/{id}/$handover`) also need a consent token in `X-Consent-Token` or emergency access ' +
  'with `X-Emergency-Reason`. Where the caller may not learn that data exists, the answer is 404.'

const REST_DOCUMENTATION = [
  'FHIR R4 over JSON (`application/fhir+json`; XML is not spoken). Every error is an OperationOutcome whose `id` is the request id.',
  '`_format` other than JSON (HTML only for `$access-log`), an `Accept` no FHIR R4 JSON answer satisfies, or `fhirVersion` other than 4.0 ' +
    'in `Accept`: 406; a body declared as another FHIR version: 415. A method a path lacks: 405 with `Allow`. `OPTIONS` needs no token ' +
    '(204 with `Allow`); browsers on the origins in OVERDRACHT_CORS_ORIGINS get CORS headers, other origins none.',
  '',
  'Headers:',
  '',
  '- `X-Consent-Token` (request): the consent token for a dossier read (`GET Bundle/{id}`, `GET Bundle/{id}/_history/{vid}`, ' +
    '`Patient/{id}/$handover`). (Response of `POST Consent` with status active): the token for the consent just recorded.',
  '- `X-Consent-Token-Expires` (response of `POST Consent`): when that token expires (an instant).',
  '- `X-Emergency-Reason` (request, dossier reads): break-the-glass. The reason needs at least 20 letters or digits (any script; spaces, ' +
    'punctuation and invisible characters do not count), UTF-8; it opens an emergency-access window for the caller, is audited and is ' +
    "reviewed by the privacy officer of the patient's custodian.",
  '- `X-Request-Id` (request and response): a random UUID (version 4) correlates the request and is echoed in the answer, the logs and ' +
    'the audit entries; any other value is replaced by a new id. Without it, the trace id of a W3C `traceparent` (version 00) is taken; ' +
    'else the service makes one, and answers it in `X-Request-Id`.',
  '- `traceparent` (request): W3C Trace Context, see X-Request-Id.',
  '- `ETag` / `If-Match`: versions are weak ETags (`W/"2"`); an update may send `If-Match`, and is refused (412) when the resource has changed since.',
  '- `Prefer: return=minimal` on `POST Bundle`: 201 without a body.',
  '',
  'Searches answer a `searchset` Bundle of one page: `total` counts every match, `link` has `self` and, while more follow, `next` ' +
    '(absolute URLs; follow `next` as it is, its `_page` position is opaque). Pages are stable: the order is a keyset (Task: planned date, ' +
    'then announcement; AuditEvent: time of recording), so what is added while a client pages never shifts a page. `_count` sets the page ' +
    'size (defaults and maxima per resource below; more than the maximum is lowered and said so), `_summary=count` (or `_count=0`) answers ' +
    'only `total`. Comma-separated values match any (`status=requested,accepted`, `identifier=a|x,b|y`). Unknown parameters: ignored ' +
    'under `Prefer: handling=lenient` (the default), with an OperationOutcome entry (search.mode outcome) saying which; refused with 400 under ' +
    '`Prefer: handling=strict`.',
  '',
  'Versions: each Bundle, Consent and Task has its own `meta.versionId`, vread at `{type}/{id}/_history/{vid}` and instance history at ' +
    '`{type}/{id}/_history` (newest first). A Bundle is never changed (its only version is 1); the patient\'s dossier version is the Bundle ' +
    `meta extension \`${DOSSIER_VERSION_EXTENSION}\`, since each upload is a Bundle of its own.`,
].join('\n')

const searchParam = (name: string, type: CapabilityStatementRestResourceSearchParam['type'], documentation: string, definition?: string) => ({
  name,
  ...(definition ? { definition } : {}),
  type,
  documentation,
})

/** The result parameters every search here takes. */
const paging = (defaultCount: number, maxCount: number): CapabilityStatementRestResourceSearchParam[] => [
  searchParam('_count', 'number', `Page size: default ${defaultCount}, at most ${maxCount}; 0 answers only the total.`, 'http://hl7.org/fhir/SearchParameter/Resource-count'),
  searchParam('_summary', 'token', '`count`: only the total, no entries. `false`: the default.'),
]

const operationsOf = (resource: CapabilityStatementRestResource['type']): CapabilityStatementRestResourceOperation[] =>
  OPERATION_DEFINITIONS.filter((od: OperationDefinition) => od.resource?.includes(resource)).map((od) => ({
    name: od.code!,
    definition: od.url!,
    documentation: `${od.description} ${od.comment ?? ''}`.trim(),
  }))

const HL7_SEARCH = 'http://hl7.org/fhir/SearchParameter'

const RESOURCES: CapabilityStatementRestResource[] = [
  {
    type: 'Bundle',
    documentation:
      'The handover dossier: a `document` or `collection` Bundle with exactly one Patient carrying a V-nummer, stored encrypted. Each ' +
      'upload is a new Bundle with its own id, the next version of the patient\'s dossier; the Bundle\'s own `meta.versionId` is always ' +
      `"1", and the patient's dossier version is in the meta extension \`${DOSSIER_VERSION_EXTENSION}\` (valueInteger). ` +
      "A release is minimised under the patient's consents in force for the caller (nested denies on securityLabel or class) and then tagged " +
      '`https://overdracht.nl/fhir/CodeSystem/release-notice#content-withheld-under-consent`. ' +
      'An upload holding content the consent excludes for every recipient is refused (422) unless created with `?own-copy=true`.',
    interaction: [
      {
        code: 'create',
        documentation:
          "Caregivers of the patient's custodian, with active consent for handover. `?own-copy=true` stores content no recipient may receive, " +
          'for the patient\'s own copy. `Prefer: return=minimal` answers 201 without a body. Location: the stored version\'s `_history` URL.',
      },
      { code: 'read', documentation: 'A caregiver with `X-Consent-Token` or `X-Emergency-Reason`; minimised for the caller. ETag and Last-Modified.' },
      { code: 'vread', documentation: 'As read; `_history/1` is the only version of a Bundle.' },
      { code: 'history-instance', documentation: 'As read: a history Bundle of its one version.' },
    ],
    versioning: 'versioned',
  },
  {
    type: 'Patient',
    documentation: "The service's patients are known by V-nummer and BSN; their id is the service's own.",
    interaction: [
      {
        code: 'search-type',
        documentation:
          "Caregivers of care organisations. The match (id, V-nummer, BSN) is shown only to caregivers of the patient's custodian, a receiver " +
          'or a task party; anyone else gets an empty searchset, whether the patient exists or not.',
      },
      { code: 'read', documentation: 'The same Patient a search answers (id, V-nummer, BSN), to the same callers; anyone else 404.' },
    ],
    searchParam: [
      searchParam(
        'identifier',
        'token',
        `Required: \`system|value\` with system ${SYSTEM.vNummer} (V-nummer) or ${SYSTEM.bsn} (BSN); up to 10 comma-separated alternatives match any.`,
        `${HL7_SEARCH}/Patient-identifier`,
      ),
      ...paging(50, 50),
    ],
    operation: operationsOf('Patient'),
  },
  {
    type: 'Consent',
    documentation:
      "The patient's consent (status active, the signed form attached as sourceAttachment) or refusal (rejected), recorded by a caregiver of " +
      'the custodian; `Consent.organization` must be the caller\'s organisation. See docs/consent.md.',
    interaction: [
      {
        code: 'create',
        documentation:
          'GZA or DJI caregivers of the custodian (the first to record one for a new patient becomes custodian). An active consent answers ' +
          'with `X-Consent-Token` and `X-Consent-Token-Expires`. Location: `Consent/{id}/_history/{version}`.',
      },
      { code: 'update', documentation: 'Withdrawal only (status inactive); every token under the consent fails on its next use.' },
      { code: 'read', documentation: "Caregivers of the patient's custodian." },
      { code: 'vread', documentation: 'As read: version 1 as recorded, version 2 after withdrawal.' },
      { code: 'history-instance', documentation: 'As read.' },
      { code: 'search-type', documentation: "Caregivers of the patient's custodian; `patient` is required." },
    ],
    versioning: 'versioned',
    searchParam: [
      searchParam('patient', 'reference', 'Required: the patient, as `{id}` or `Patient/{id}`.', `${HL7_SEARCH}/clinical-patient`),
      ...paging(50, 200),
    ],
    operation: operationsOf('Consent'),
  },
  {
    type: 'Task',
    documentation:
      'A `transfer`, `departure` or `case` (codes of https://overdracht.nl/fhir/CodeSystem/task-code), with codes, identifiers and dates only. ' +
      "Transfers are announced by caregivers of the custodian, departures and cases by regievoerders of a configured DT&V; `requester` must be the caller's organisation and `owner` another. " +
      'A departure inside a granted medical postponement (art. 64 Vw) is refused (409). Listed tasks carry the extension ' +
      '`https://overdracht.nl/fhir/StructureDefinition/handover-at-risk` (valueBoolean) and, once opened, ' +
      '`https://overdracht.nl/fhir/StructureDefinition/dossier-opened` (valueDateTime) for their parties; both are accepted back unchanged ' +
      'on update and not stored. The notified-pull shape: `identifier` (the requester\'s own UUID: system urn:ietf:rfc:3986, value ' +
      `urn:uuid:…), \`businessStatus\` (one coding of ${TASK_BUSINESS_STATUS_SYSTEM}: ${TASK_BUSINESS_STATUSES.join(', ')}) and \`input\` ` +
      `(type: one coding of ${TASK_INPUT_SYSTEM}, ${Object.entries(TASK_INPUT_TYPES).map(([code, type]) => `${code} with valueReference ${type}/{id}`).join(', ')}, ` +
      "each naming a resource of the task's own patient). The owner sends identifier and input back as they are.",
    interaction: [
      { code: 'create', documentation: 'Location: `Task/{id}/_history/1`.' },
      {
        code: 'update',
        documentation:
          'The requester cancels, changes recipients or the planned date; the owner moves the status (accept, reject, start, complete). ' +
          'Conditional update `PUT Task?identifier=system|value` (notified pull) is the requester\'s: among the tasks the caller\'s ' +
          'organisation requested, none creates the task (201, no `id` in the body), one updates it (200), more than one is refused (412); ' +
          'the body must carry that identifier. A requester cannot give two of its tasks one identifier (409). An owner changes a task by id.',
      },
      { code: 'read', documentation: "The task's parties." },
      { code: 'vread', documentation: "The task's parties; each change is a version." },
      { code: 'history-instance', documentation: "The task's parties, newest first." },
      { code: 'search-type', documentation: "The caller's organisation's inbox (`owner`) or outbox (`requester`): exactly one of the two." },
    ],
    versioning: 'versioned',
    conditionalUpdate: true,
    searchParam: [
      searchParam('owner', 'reference', `The owner organisation by URA: \`{URA}\` or \`${SYSTEM.ura}|{URA}\`; the caller's own.`, `${HL7_SEARCH}/Task-owner`),
      searchParam('requester', 'reference', `The requester organisation by URA, as owner.`, `${HL7_SEARCH}/Task-requester`),
      searchParam('status', 'token', 'Task status; several, comma-separated, match any.', `${HL7_SEARCH}/Task-status`),
      searchParam('code', 'token', 'transfer, departure or case; several, comma-separated, match any.', `${HL7_SEARCH}/Task-code`),
      searchParam('identifier', 'token', 'A business identifier, `system|value`; several, comma-separated, match any.', `${HL7_SEARCH}/Task-identifier`),
      searchParam(
        'at-risk',
        'token',
        '`true`: only open handovers at risk: a departure or transfer planned within OVERDRACHT_AT_RISK_HOURS (default 24) hours that its owner has not yet opened (no read receipt). `false` (default): all.',
      ),
      ...paging(50, 500),
    ],
    operation: operationsOf('Task'),
  },
  {
    type: 'Subscription',
    documentation:
      'Notified pull: a receiving organisation registers a `rest-hook` endpoint for its own URA, with criteria `Task?owner={URA}` ' +
      '(tasks naming it as owner or extra recipient: created, changed, cancelled; a new dossier version of a patient of an open transfer to it; ' +
      'a consent withdrawn for a patient it received) or `Task?requester={URA}` (its own tasks changed by others; a handover at risk). ' +
      'Each notification is a small JSON body with the event, the Task reference, the time and an id for de-duplication, never a person or ' +
      'medical content, signed by a detached JWS (header `X-Overdracht-Signature`) with a key of `/.well-known/jwks.json`. `channel.payload` ' +
      'is absent or `application/json`; `channel.header` is not supported. The endpoint must be https and public (private, loopback and ' +
      'link-local addresses are refused unless allow-listed). Undeliverable notifications end in the dead letters: `status` `error` with `error`.',
    interaction: [
      { code: 'create', documentation: "For the caller's own organisation only (403 otherwise, audited). Location: `Subscription/{id}/_history/1`." },
      { code: 'read', documentation: "The caller's own organisation's; another's is not found." },
      { code: 'delete', documentation: 'Nothing more is delivered to it.' },
      { code: 'search-type', documentation: "The caller's organisation's live subscriptions." },
    ],
    versioning: 'no-version',
  },
  {
    type: 'AuditEvent',
    documentation:
      'The hash-chained audit log with the NEN 7513 fields: every access decision, permit and denial. For the privacy officer of an ' +
      "organisation that is or was the patient's custodian.",
    interaction: [
      { code: 'search-type', documentation: '`patient` is required.' },
      { code: 'read', documentation: "One entry, for whoever may read that patient's log." },
    ],
    searchParam: [
      searchParam('patient', 'reference', 'Required: the patient, as `{id}` or `Patient/{id}`.', `${HL7_SEARCH}/AuditEvent-patient`),
      searchParam(
        'date',
        'date',
        'When it was recorded, with prefix `ge`, `gt`, `le`, `lt` or `eq` (default), e.g. `date=ge2026-11-01&date=lt2026-12-01`; days are Amsterdam days.',
        `${HL7_SEARCH}/AuditEvent-date`,
      ),
      ...paging(100, 1000),
    ],
  },
  {
    type: 'CodeSystem',
    documentation: 'The closed vocabularies: handelingsperspectief, handelingsperspectief-value, disclosure-legal-ground. Public: no token.',
    interaction: [{ code: 'read' }],
  },
  {
    type: 'OperationDefinition',
    documentation: 'The definitions of the operations above, at their canonical URLs. Public: no token.',
    interaction: [{ code: 'read' }],
  },
]

export interface CapabilityOptions {
  /**
   * The absolute base the service is reached at (`https://overdracht.example/fhir`), for
   * `implementation.url`; without it that is left out, since the statement cannot know its address.
   */
  baseUrl?: string
  /** Whether browsers on other origins are answered with CORS headers (OVERDRACHT_CORS_ORIGINS set). */
  cors?: boolean
}

/** What the FHIR endpoint offers, for `GET /fhir/metadata`. */
export function capabilityStatement(version: string, now: Date, options: CapabilityOptions = {}): CapabilityStatement {
  const { baseUrl, cors = false } = options
  return {
    resourceType: 'CapabilityStatement',
    url: CAPABILITY_STATEMENT_URL,
    version,
    name: 'Overdracht',
    title: 'Overdracht: consent-managed medical handover for the Dutch migration chain',
    status: 'active',
    date: now.toISOString(),
    publisher: 'Overdracht',
    description:
      'Caregivers record consent and hand over the dossier as a FHIR Bundle; caregivers receiving a patient read it with a consent token; ' +
      'non-caregivers get the handelingsperspectief (what to do, never why). Other endpoints (health, keys, emergency reviews) are ' +
      'described in OpenAPI at /openapi.json.',
    kind: 'instance',
    software: { name: 'Overdracht', version },
    implementation: {
      description: 'Consent-managed medical handover for the Dutch migration chain',
      ...(baseUrl ? { url: baseUrl } : {}),
    },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        documentation: REST_DOCUMENTATION,
        security: {
          cors,
          service: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth', display: 'OAuth' }],
              text: "Bearer JWT from the caller organisation's identity provider",
            },
          ],
          description: SECURITY_DESCRIPTION,
        },
        resource: RESOURCES,
      },
    ],
  }
}
