import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { sql } from 'kysely'
import { auditContext } from './access/enforce.js'
import { consentRoutes } from './consent/consent.routes.js'
import { closeEmergencyReview, listEmergencyReviews } from './consent/emergency.service.js'
import type { Deps } from './deps.js'
import { capabilityStatement } from './fhir/capability-statement.js'
import { OPERATION_DEFINITIONS } from './fhir/operation-definitions.js'
import { badRequest, payloadTooLarge, serviceUnavailable } from './fhir/outcome.js'
import { handoverRoutes } from './handover/handover.routes.js'
import { taskRoutes } from './tasks/task.routes.js'
import { subscriptionRoutes } from './notifications/subscription.routes.js'
import { escortCardPublicRoutes, escortCardRoutes } from './escort-card/escort-card.routes.js'
import { auditRoutes } from './audit/audit.routes.js'
import { retentionRoutes } from './retention/retention.routes.js'
import { patientReadRoutes } from './patient/patient.routes.js'
import { perspectiveRoutes } from './perspective/perspective.routes.js'
import { codeSystemResource, legalGroundCodeSystemResource, valueCodeSystemResource } from './perspective/vocabulary.js'
import { notFound } from './fhir/outcome.js'
import type { AppEnv } from './http/app-env.js'
import { authenticate } from './http/caller-auth.js'
import { outcomeErrorHandler, outcomeNotFound } from './http/error-handler.js'
import { fhirBase, fhirJson, SMALL_RESOURCE_BYTES } from './http/fhir-io.js'
import { openApiDocument } from './http/openapi.js'
import { requestContext } from './http/request-context.js'
import { noStore } from './http/security-headers.js'
import { methodNotAllowed, negotiate, optionsAndCors } from './http/rest.js'
import { webRoutes } from './web/web.routes.js'

export const VERSION = '0.1.0'

export function createApp(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use(requestContext(deps.logger, deps.metrics))
  // A control character (a NUL above all) in the path or query never reaches a route or the database.
  app.use(async (c, next) => {
    const url = new URL(c.req.url)
    let decoded: string
    try {
      decoded = decodeURIComponent(url.pathname + url.search)
    } catch {
      throw badRequest('The request URL is not valid percent-encoded UTF-8')
    }
    if (/[\u0000-\u001f\u007f]/.test(decoded)) throw badRequest('The request URL contains a control character')
    await next()
  })
  app.use(async (c, next) => {
    await next()
    c.header('X-Content-Type-Options', 'nosniff')
  })
  // OPTIONS needs no token; CORS for the configured origins only.
  const routes = () => app.routes
  app.use(optionsAndCors(deps.settings.corsOrigins, routes))
  // FHIR R4 JSON only: other formats and versions are refused before anything else happens.
  app.use('/fhir/*', negotiate())

  app.get('/healthz', (c) => c.json({ status: 'up' }))
  app.get('/readyz', async (c) => {
    try {
      await sql`select 1`.execute(deps.db)
      return c.json({ status: 'ready' })
    } catch {
      throw serviceUnavailable('The database is not reachable')
    }
  })
  app.get('/.well-known/jwks.json', async (c) => {
    c.header('Cache-Control', 'public, max-age=300')
    return c.json(await deps.consentKeys.publicJwks())
  })
  app.get('/openapi.json', (c) => c.json(openApiDocument(VERSION)))
  // The escort card's online status and its offline verifier: public, like the keys they rest on.
  app.route('/', escortCardPublicRoutes(deps))
  app.get('/fhir/metadata', (c) =>
    fhirJson(c, capabilityStatement(VERSION, deps.clock.now(), { baseUrl: fhirBase(c, deps.settings.publicBaseUrl), cors: deps.settings.corsOrigins.length > 0 })),
  )
  // The closed vocabularies are public: they describe codes, not people.
  // A Map, not an object: `__proto__` or `constructor` must not find anything.
  const codeSystems = new Map(
    [codeSystemResource(), valueCodeSystemResource(), legalGroundCodeSystemResource()].map((cs) => [cs.id!, cs]),
  )
  app.get('/fhir/CodeSystem/:id', (c) => {
    const cs = codeSystems.get(c.req.param('id'))
    if (!cs) throw notFound()
    return fhirJson(c, cs)
  })
  // The definitions of the operations the CapabilityStatement names: public like it.
  const operationDefinitions = new Map(OPERATION_DEFINITIONS.map((od) => [od.id!, od]))
  app.get('/fhir/OperationDefinition/:id', (c) => {
    const od = operationDefinitions.get(c.req.param('id'))
    if (!od) throw notFound()
    return fhirJson(c, od)
  })

  const limit = bodyLimit({
    maxSize: deps.settings.maxBodyBytes,
    onError: () => {
      throw payloadTooLarge(deps.settings.maxBodyBytes)
    },
  })

  const fhir = new Hono<AppEnv>()
  fhir.use(noStore(), authenticate(deps.callerKeys, deps.clock))
  fhir.use(limit)
  fhir.route('/', handoverRoutes(deps))
  fhir.route('/', consentRoutes(deps))
  fhir.route('/', taskRoutes(deps))
  fhir.route('/', perspectiveRoutes(deps))
  fhir.route('/', auditRoutes(deps))
  fhir.route('/', retentionRoutes(deps))
  fhir.route('/', subscriptionRoutes(deps))
  fhir.route('/', escortCardRoutes(deps))
  fhir.route('/', patientReadRoutes(deps))
  app.route('/fhir', fhir)

  const admin = new Hono<AppEnv>()
  admin.use(noStore(), authenticate(deps.callerKeys, deps.clock))
  admin.use(limit)
  admin.get('/emergency-reviews', async (c) => {
    const status = c.req.query('status')
    if (status !== undefined && status !== 'open' && status !== 'closed') throw badRequest('status must be open or closed', ['status'])
    return c.json({ reviews: await listEmergencyReviews(deps, auditContext(c.var.principal, c.var.requestId), status) })
  })
  admin.post('/emergency-reviews/:id/close', async (c) => {
    let body: { conclusion?: unknown; note?: unknown }
    const expected = 'The body must be JSON: {"conclusion": "justified" | "unjustified", "note": "..."}'
    // A conclusion and a note: refused unread when larger than that can be.
    const declared = Number(c.req.header('content-length'))
    if (Number.isFinite(declared) && declared > SMALL_RESOURCE_BYTES) throw payloadTooLarge(SMALL_RESOURCE_BYTES)
    const text = await c.req.text()
    if (Buffer.byteLength(text) > SMALL_RESOURCE_BYTES) throw payloadTooLarge(SMALL_RESOURCE_BYTES)
    try {
      body = JSON.parse(text)
    } catch {
      throw badRequest(expected)
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(expected)
    if (typeof body.conclusion !== 'string') throw badRequest('conclusion is required', ['conclusion'])
    if (body.note !== undefined && typeof body.note !== 'string') throw badRequest('note must be a string', ['note'])
    await closeEmergencyReview(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'), body.conclusion, body.note)
    return c.body(null, 204)
  })
  app.route('/admin', admin)

  // The web application, on the same services and rules (src/web/); only when sign-in is configured.
  if (deps.web) app.route('/', webRoutes(deps, deps.web) as unknown as Hono<AppEnv>)

  app.onError(outcomeErrorHandler)
  // A path the app has, with a method it lacks: 405 with Allow; anything else: 404.
  app.notFound((c) => {
    const refused = methodNotAllowed(c, routes)
    if (refused) return outcomeErrorHandler(refused, c)
    return outcomeNotFound(c)
  })
  return app
}
