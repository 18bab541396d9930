/** The OpenAPI description of the endpoints outside the FHIR API (the FHIR API has /fhir/metadata). */
export function openApiDocument(version: string) {
  const outcome = { $ref: '#/components/schemas/OperationOutcome' }
  const error = (description: string) => ({ description, content: { 'application/fhir+json': { schema: outcome } } })
  return {
    openapi: '3.1.0',
    info: {
      title: 'Overdracht',
      version,
      description:
        'Consent-managed medical handover for the Dutch migration chain. The FHIR R4 API lives under /fhir ' +
        '(CapabilityStatement at /fhir/metadata); this document describes the other endpoints.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        OperationOutcome: { type: 'object', required: ['resourceType', 'issue'], properties: { resourceType: { const: 'OperationOutcome' }, issue: { type: 'array' } } },
        EmergencyReview: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            patientId: { type: 'string' },
            userId: { type: 'string' },
            organisation: { type: 'string' },
            organisationType: { type: 'string' },
            bigNumber: { type: ['string', 'null'] },
            reason: { type: ['string', 'null'] },
            openedAt: { type: 'string', format: 'date-time' },
            windowEndsAt: { type: 'string', format: 'date-time' },
            status: { enum: ['open', 'closed'] },
            reviewedBy: { type: ['string', 'null'] },
            reviewedAt: { type: ['string', 'null'], format: 'date-time' },
            conclusion: { type: ['string', 'null'], enum: ['justified', 'unjustified', null] },
            note: { type: ['string', 'null'] },
          },
        },
      },
    },
    paths: {
      '/healthz': { get: { summary: 'The process is up', responses: { '200': { description: 'up' } } } },
      '/readyz': { get: { summary: 'The database is reachable', responses: { '200': { description: 'ready' }, '503': error('database unreachable') } } },
      '/.well-known/jwks.json': {
        get: { summary: 'Public keys that verify consent tokens (current and not yet expired retired keys)', responses: { '200': { description: 'JWK set' } } },
      },
      '/admin/emergency-reviews': {
        get: {
          summary: 'The emergency-access review queue (privacy officer)',
          security: [{ bearer: [] }],
          parameters: [{ name: 'status', in: 'query', schema: { enum: ['open', 'closed'] } }],
          responses: {
            '200': { description: 'reviews', content: { 'application/json': { schema: { type: 'object', properties: { reviews: { type: 'array', items: { $ref: '#/components/schemas/EmergencyReview' } } } } } } },
            '401': error('no or bad credentials'),
            '403': error('not a privacy officer'),
          },
        },
      },
      '/admin/emergency-reviews/{id}/close': {
        post: {
          summary: 'Close an emergency-access review with a conclusion (privacy officer)',
          security: [{ bearer: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', required: ['conclusion'], properties: { conclusion: { enum: ['justified', 'unjustified'] }, note: { type: 'string' } } } } },
          },
          responses: { '204': { description: 'closed' }, '404': error('no such review'), '409': error('already closed') },
        },
      },
    },
  }
}
