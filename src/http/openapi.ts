/**
 * The OpenAPI description of the endpoints outside the FHIR API (the FHIR API describes itself at
 * /fhir/metadata). `npx redocly lint` passes it with no error or warning (test/openapi.test.ts).
 */
export function openApiDocument(version: string) {
  const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string) => ({ $ref: `#/components/${kind}/${name}` })
  const requestId = { 'X-Request-Id': ref('headers', 'RequestId') }
  const correlation = [ref('parameters', 'RequestId'), ref('parameters', 'Traceparent')]
  const json = (schema: object) => ({ 'application/json': { schema } })
  const status = (value: string) => ({ type: 'object', required: ['status'], properties: { status: { const: value } } })

  return {
    openapi: '3.1.0',
    info: {
      title: 'Overdracht',
      version,
      license: { name: 'EUPL-1.2', identifier: 'EUPL-1.2' },
      description:
        'Consent-managed medical handover for the Dutch migration chain. The FHIR R4 API lives under /fhir and describes itself ' +
        'in its CapabilityStatement (GET /fhir/metadata); this document describes the other endpoints. ' +
        'Every answer of the API carries `X-Request-Id`; every error is a FHIR OperationOutcome (`application/fhir+json`) whose `id` ' +
        'is the request id. `OPTIONS` on any path the service has is answered 204 with `Allow`, without a token; browsers on the origins in ' +
        'OVERDRACHT_CORS_ORIGINS get CORS headers. The Prometheus metrics are served on a separate listener (OVERDRACHT_METRICS_PORT), ' +
        'described under /metrics.',
    },
    servers: [{ url: '/', description: 'The service, at the origin this document is served from (OVERDRACHT_PUBLIC_BASE_URL in production)' }],
    tags: [
      { name: 'health', description: 'Liveness and readiness for orchestrators and load balancers' },
      { name: 'keys', description: 'Public keys that verify the consent tokens the service issues' },
      { name: 'description', description: 'This document' },
      { name: 'emergency-reviews', description: "The privacy officer's review of emergency access (break-the-glass)" },
      { name: 'metrics', description: 'The Prometheus exposition, on its own listener' },
      { name: 'escort-card', description: 'The online status of an escort card, and the offline verifier for it' },
    ],
    paths: {
      '/healthz': {
        get: {
          operationId: 'getHealth',
          summary: 'The process is up',
          description: 'Answers as long as the process serves HTTP; it does not touch the database.',
          tags: ['health'],
          security: [],
          parameters: correlation,
          responses: {
            '200': { description: 'The process is up', headers: requestId, content: json(status('up')) },
            '400': ref('responses', 'BadRequest'),
          },
        },
      },
      '/readyz': {
        get: {
          operationId: 'getReadiness',
          summary: 'The database is reachable',
          tags: ['health'],
          security: [],
          parameters: correlation,
          responses: {
            '200': { description: 'Ready to serve', headers: requestId, content: json(status('ready')) },
            '400': ref('responses', 'BadRequest'),
            '503': ref('responses', 'Unavailable'),
          },
        },
      },
      '/.well-known/jwks.json': {
        get: {
          operationId: 'getConsentTokenKeys',
          summary: 'Public keys that verify consent tokens',
          description: 'The current signing key and the retired keys whose tokens may not have expired yet (ES256). Cacheable for 5 minutes.',
          tags: ['keys'],
          security: [],
          parameters: correlation,
          responses: {
            '200': {
              description: 'A JWK set (RFC 7517)',
              headers: { ...requestId, 'Cache-Control': { description: '`public, max-age=300`', schema: { type: 'string' } } },
              content: json(ref('schemas', 'JwkSet')),
            },
            '400': ref('responses', 'BadRequest'),
            '503': ref('responses', 'Unavailable'),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This OpenAPI document',
          tags: ['description'],
          security: [],
          parameters: correlation,
          responses: {
            '200': {
              description: 'The OpenAPI 3.1 document',
              headers: requestId,
              content: json({ type: 'object', required: ['openapi', 'info', 'paths'], properties: { openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } } }),
            },
            '400': ref('responses', 'BadRequest'),
          },
        },
      },
      '/admin/emergency-reviews': {
        get: {
          operationId: 'listEmergencyReviews',
          summary: 'The emergency-access review queue',
          description:
            "For privacy officers: the emergency access by the officer's own organisation's caregivers and to patients the organisation is " +
            "or was custodian of, oldest first. Each reason shown is recorded in that patient's access log.",
          tags: ['emergency-reviews'],
          security: [{ bearer: [] }],
          parameters: [
            { name: 'status', in: 'query', required: false, description: 'Only open or only closed reviews; without it, both.', schema: { type: 'string', enum: ['open', 'closed'] } },
            ...correlation,
          ],
          responses: {
            '200': {
              description: 'The reviews',
              headers: requestId,
              content: json({ type: 'object', required: ['reviews'], properties: { reviews: { type: 'array', items: ref('schemas', 'EmergencyReview') } } }),
            },
            '400': ref('responses', 'BadRequest'),
            '401': ref('responses', 'Unauthorized'),
            '403': ref('responses', 'Forbidden'),
            '503': ref('responses', 'Unavailable'),
          },
        },
      },
      '/admin/emergency-reviews/{id}/close': {
        post: {
          operationId: 'closeEmergencyReview',
          summary: 'Close an emergency-access review with a conclusion',
          description:
            'For the privacy officer of the organisation that is custodian of the patient now; the accessing organisation\'s own officer sees the ' +
            'review but cannot close it (403). The body is at most 64 KB.',
          tags: ['emergency-reviews'],
          security: [{ bearer: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, description: 'The review id', schema: { type: 'string' } }, ...correlation],
          requestBody: { required: true, content: json(ref('schemas', 'EmergencyReviewClosing')) },
          responses: {
            '204': { description: 'Closed', headers: requestId },
            '400': ref('responses', 'BadRequest'),
            '401': ref('responses', 'Unauthorized'),
            '403': ref('responses', 'Forbidden'),
            '404': ref('responses', 'NotFound'),
            '409': ref('responses', 'Conflict'),
            '413': ref('responses', 'PayloadTooLarge'),
            '503': ref('responses', 'Unavailable'),
          },
        },
      },
      '/escort-card/status/{jti}': {
        get: {
          operationId: 'getEscortCardStatus',
          summary: 'Whether an escort card still stands',
          description:
            'The online check of a card issued by `GET /fhir/Task/{id}/$escort-card` (its `jti`): `valid`; `revoked` when the departure is no ' +
            "longer open (`departure-closed`), the holder's organisation is no longer a party of it (`no-longer-a-party`), a consent of the " +
            "patient was withdrawn, recorded or changed since (`consent-changed`), the patient's perspective was reviewed again since " +
            '(`perspective-changed`; a new card shows what holds now) or the data was erased (`erased`); `expired`; or `unknown`. Nothing else about the card or the person.',
          tags: ['escort-card'],
          security: [],
          parameters: [{ name: 'jti', in: 'path', required: true, description: 'The card id (`jti` of its token)', schema: { type: 'string', maxLength: 64 } }, ...correlation],
          responses: {
            '200': {
              description: 'The status',
              headers: { ...requestId, 'Cache-Control': { description: '`no-store`', schema: { type: 'string' } } },
              content: json({
                type: 'object',
                required: ['status'],
                properties: {
                  status: { type: 'string', enum: ['valid', 'revoked', 'expired', 'unknown'] },
                  reason: { type: 'string', enum: ['departure-closed', 'no-longer-a-party', 'consent-changed', 'perspective-changed', 'erased'] },
                },
              }),
            },
            '400': ref('responses', 'BadRequest'),
            '503': ref('responses', 'Unavailable'),
          },
        },
      },
      '/escort-card/verify': {
        get: {
          operationId: 'getEscortCardVerifier',
          summary: 'The offline verification page for escort cards',
          description:
            'A page (with its own script, `/escort-card/verify.js`; no inline script) that keeps the public keys of `/.well-known/jwks.json` ' +
            'once loaded and then verifies a card without a network: the signature (WebCrypto, ES256), type, issuer, audience and expiry, ' +
            'showing the codes in Dutch and English or the reason the card is not valid.',
          tags: ['escort-card'],
          security: [],
          parameters: correlation,
          responses: {
            '200': {
              description: 'The page',
              headers: { ...requestId, 'Content-Security-Policy': { description: "`script-src 'self'`, nothing inline", schema: { type: 'string' } } },
              content: { 'text/html': { schema: { type: 'string' } } },
            },
            '400': ref('responses', 'BadRequest'),
          },
        },
      },
      '/escort-card/verify.js': {
        get: {
          operationId: 'getEscortCardVerifierScript',
          summary: 'The script of the verification page',
          tags: ['escort-card'],
          security: [],
          parameters: correlation,
          responses: {
            '200': {
              description: 'The script',
              headers: { ...requestId, 'Cache-Control': { description: '`public, max-age=3600`', schema: { type: 'string' } } },
              content: { 'text/javascript': { schema: { type: 'string' } } },
            },
            '400': ref('responses', 'BadRequest'),
          },
        },
      },
      '/escort-card/sw.js': {
        get: {
          operationId: 'getEscortCardVerifierServiceWorker',
          summary: 'The service worker that lets the verification page open without a network',
          tags: ['escort-card'],
          security: [],
          parameters: correlation,
          responses: {
            '200': {
              description: 'The service worker script (scope `/escort-card/`)',
              headers: { ...requestId, 'Cache-Control': { description: '`no-cache`', schema: { type: 'string' } } },
              content: { 'text/javascript': { schema: { type: 'string' } } },
            },
            '400': ref('responses', 'BadRequest'),
          },
        },
      },
      '/metrics': {
        servers: [
          {
            url: 'http://{host}:{port}',
            description: 'The metrics listener, apart from the API so that it can stay inside the operator\'s network; off unless OVERDRACHT_METRICS_PORT is set',
            variables: {
              host: { default: '127.0.0.1', description: 'OVERDRACHT_METRICS_HOST, else HOST' },
              port: { default: '9464', description: 'OVERDRACHT_METRICS_PORT (it has no default: without it there is no listener)' },
            },
          },
        ],
        get: {
          operationId: 'getMetrics',
          summary: 'The Prometheus exposition',
          description:
            'Requests by route pattern and status, the database pool, audit commits, BIG register calls, access decisions, emergency access, ' +
            'retention and process metrics; labels are closed sets only. With OVERDRACHT_METRICS_TOKEN set a scrape must send it as a Bearer token.',
          tags: ['metrics'],
          // Either: no token is configured, or the configured one.
          security: [{}, { metricsToken: [] }],
          responses: {
            '200': {
              description: 'The exposition in the Prometheus text format 0.0.4',
              headers: { 'Cache-Control': { description: '`no-store`', schema: { type: 'string' } } },
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            '401': {
              description: 'A token is configured and the scrape did not send it',
              headers: { 'WWW-Authenticate': { description: '`Bearer realm="overdracht-metrics"`', schema: { type: 'string' } } },
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "An access token from the caller organisation's identity provider (asymmetric signatures only) with the claims sub, name, " +
            'org (URA), org_type, role and, for caregivers, big. The emergency reviews are for role privacy-officer.',
        },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'OVERDRACHT_METRICS_TOKEN, when set' },
      },
      parameters: {
        RequestId: {
          name: 'X-Request-Id',
          in: 'header',
          required: false,
          description: 'A random UUID (version 4) to correlate the request; echoed in the answer, logs and audit entries. Any other value is replaced by a new id.',
          schema: { type: 'string', format: 'uuid' },
        },
        Traceparent: {
          name: 'traceparent',
          in: 'header',
          required: false,
          description: 'W3C Trace Context (version 00); without X-Request-Id, its trace id becomes the request id.',
          schema: { type: 'string', pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
        },
      },
      headers: {
        RequestId: { description: "The request id: the caller's X-Request-Id or traceparent trace id, else a new UUID", schema: { type: 'string' } },
      },
      responses: {
        BadRequest: outcome('The request is not valid (a bad parameter or body, or a URL that is not percent-encoded UTF-8 or holds a control character)'),
        Unauthorized: outcome('No or bad credentials', {
          'WWW-Authenticate': { description: 'A Bearer challenge (RFC 6750), `realm="overdracht"`', schema: { type: 'string' } },
        }),
        Forbidden: outcome('The caller may not do this'),
        NotFound: outcome('No such emergency review'),
        Conflict: outcome('The review is already closed'),
        PayloadTooLarge: outcome('The request body is larger than allowed'),
        Unavailable: outcome('The database cannot be reached', { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'string' } } }),
      },
      schemas: {
        OperationOutcome: {
          type: 'object',
          description: 'A FHIR R4 OperationOutcome (https://hl7.org/fhir/R4/operationoutcome.html)',
          required: ['resourceType', 'issue'],
          properties: {
            resourceType: { const: 'OperationOutcome' },
            id: { type: 'string', description: 'The request id' },
            issue: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['severity', 'code'],
                properties: {
                  severity: { type: 'string', enum: ['fatal', 'error', 'warning', 'information'] },
                  code: { type: 'string', description: 'An IssueType code (http://hl7.org/fhir/issue-type), e.g. invalid, login, forbidden, not-found' },
                  diagnostics: { type: 'string' },
                  expression: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
        },
        JwkSet: {
          type: 'object',
          required: ['keys'],
          properties: {
            keys: {
              type: 'array',
              items: {
                type: 'object',
                description: 'A public EC key (P-256) for ES256',
                required: ['kty', 'kid'],
                properties: {
                  kty: { type: 'string', const: 'EC' },
                  crv: { type: 'string', const: 'P-256' },
                  x: { type: 'string' },
                  y: { type: 'string' },
                  kid: { type: 'string' },
                  alg: { type: 'string', const: 'ES256' },
                  use: { type: 'string', const: 'sig' },
                },
              },
            },
          },
        },
        EmergencyReview: {
          type: 'object',
          required: [
            'id',
            'patientId',
            'userId',
            'organisation',
            'organisationType',
            'bigNumber',
            'reason',
            'openedAt',
            'windowEndsAt',
            'status',
            'reviewedBy',
            'reviewedAt',
            'conclusion',
            'note',
          ],
          properties: {
            id: { type: 'string' },
            patientId: { type: 'string', description: "The service's patient id" },
            userId: { type: 'string', description: 'The `sub` of the caregiver who broke the glass' },
            organisation: { type: 'string', description: "The caregiver's organisation (URA)" },
            organisationType: { type: 'string' },
            bigNumber: { type: ['string', 'null'] },
            reason: { type: ['string', 'null'], description: 'The reason given; null once the patient is erased' },
            openedAt: { type: 'string', format: 'date-time' },
            windowEndsAt: { type: 'string', format: 'date-time' },
            status: { type: 'string', enum: ['open', 'closed'] },
            reviewedBy: { type: ['string', 'null'] },
            reviewedAt: { type: ['string', 'null'], format: 'date-time' },
            conclusion: { type: ['string', 'null'], enum: ['justified', 'unjustified', null] },
            note: { type: ['string', 'null'] },
          },
        },
        EmergencyReviewClosing: {
          type: 'object',
          required: ['conclusion'],
          properties: {
            conclusion: { type: 'string', enum: ['justified', 'unjustified'] },
            note: { type: 'string' },
          },
        },
      },
    },
  }
}

function outcome(description: string, headers: Record<string, object> = {}) {
  return {
    description,
    headers: { 'X-Request-Id': { $ref: '#/components/headers/RequestId' }, ...headers },
    content: { 'application/fhir+json': { schema: { $ref: '#/components/schemas/OperationOutcome' } } },
  }
}
