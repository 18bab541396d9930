import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  OperationDefinition,
  OperationOutcomeIssue,
} from '@medplum/fhirtypes'
import { afterAll, describe, expect, it } from 'vitest'
import { PATIENT_SEARCH } from '../src/handover/handover.routes.js'
import { CONSENT_SEARCH } from '../src/consent/consent.routes.js'
import { TASK_SEARCH } from '../src/tasks/task.routes.js'
import { AUDIT_EVENT_SEARCH } from '../src/audit/audit.routes.js'
import { OPERATION_DEFINITIONS } from '../src/fhir/operation-definitions.js'
import { validateFhirResource } from '../src/fhir/validation.js'
import { appRoutes, type AppRoute } from './support/security.js'
import { createTestApp } from './support/test-app.js'

/*
 * What the FHIR API says of itself. The route list comes from the app, so a route added without
 * being described in the CapabilityStatement fails here.
 */

// Top-level await: the route list and the CapabilityStatement must exist when the tests are collected.
const t = await createTestApp()
afterAll(async () => t.close())

const metadata = await t.get('/fhir/metadata')
const metadataText = await metadata.text()
const cs = JSON.parse(metadataText) as CapabilityStatement
const rest = cs.rest?.[0]
const resources = rest?.resource ?? []
const resourceOf = (type: string): CapabilityStatementRestResource | undefined => resources.find((r) => r.type === type)

const errorsOf = (issues: OperationOutcomeIssue[]) => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')

/** The FHIR interaction or operation a route's method and pattern stand for, if it has the shape of one. */
type Described =
  | { kind: 'capabilities' }
  | { kind: 'interaction'; type: string; code: string; conditional?: boolean }
  | { kind: 'operation'; type: string; name: string; level: 'type' | 'instance' }
  | { kind: 'unknown' }

function fhirMeaning(route: AppRoute): Described {
  const segments = route.pattern.replace(/^\/fhir\/?/, '').split('/')
  const param = (s: string | undefined) => s !== undefined && s.startsWith(':')
  const [type, second, third, fourth] = segments
  const method = route.method
  if (segments.length === 1 && type === 'metadata' && method === 'GET') return { kind: 'capabilities' }
  if (!type || !/^[A-Z][A-Za-z]+$/.test(type)) return { kind: 'unknown' }
  const interaction = (code: string): Described => ({ kind: 'interaction', type, code })
  if (segments.length === 1 && method === 'PUT') return { kind: 'interaction', type, code: 'update', conditional: true }
  if (segments.length === 1) return method === 'GET' ? interaction('search-type') : method === 'POST' ? interaction('create') : { kind: 'unknown' }
  if (segments.length === 2 && second?.startsWith('$')) return { kind: 'operation', type, name: second.slice(1), level: 'type' }
  if (segments.length === 2 && second === '_history' && method === 'GET') return interaction('history-type')
  if (segments.length === 2 && param(second)) {
    const code = { GET: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method]
    return code ? interaction(code) : { kind: 'unknown' }
  }
  if (segments.length === 3 && param(second) && third?.startsWith('$')) return { kind: 'operation', type, name: third.slice(1), level: 'instance' }
  if (segments.length === 3 && param(second) && third === '_history' && method === 'GET') return interaction('history-instance')
  if (segments.length === 4 && param(second) && third === '_history' && param(fourth) && method === 'GET') return interaction('vread')
  return { kind: 'unknown' }
}

const label = (d: Described) =>
  d.kind === 'interaction'
    ? `${d.type} ${d.conditional ? 'conditional ' : ''}${d.code}`
    : d.kind === 'operation'
      ? `${d.type} $${d.name} on the ${d.level}`
      : d.kind === 'capabilities'
        ? 'the CapabilityStatement itself'
        : 'nothing: no FHIR interaction or operation has its shape'

const fhirRoutes = appRoutes(t.app).filter((r) => r.pattern === '/fhir' || r.pattern.startsWith('/fhir/'))

/** The OperationDefinition the CapabilityStatement names at `definition`, as the app serves it. */
async function servedDefinition(definition: string): Promise<{ res: Response; text: string }> {
  const res = await t.get(new URL(definition).pathname)
  return { res, text: await res.text() }
}

describe('the CapabilityStatement at GET /fhir/metadata', () => {
  it('GET /fhir/metadata answers a valid R4 CapabilityStatement without a token', () => {
    expect(metadata.status, metadataText).toBe(200)
    expect(metadata.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    expect(errorsOf(validateFhirResource(cs)), metadataText).toEqual([])
  })

  it('it names the service: canonical url, name, an active instance statement of FHIR 4.0.1 in JSON only', () => {
    expect(cs, metadataText).toMatchObject({
      resourceType: 'CapabilityStatement',
      url: 'https://overdracht.nl/fhir/CapabilityStatement/overdracht',
      name: 'Overdracht',
      status: 'active',
      kind: 'instance',
      fhirVersion: '4.0.1',
      format: ['json'],
      software: { name: 'Overdracht' },
    })
    expect(cs.title).toBeTruthy()
    expect(cs.implementation?.description).toBeTruthy()
    expect(rest?.mode).toBe('server')
  })

  it('it lists Bundle, Patient, Consent, Task, Subscription, AuditEvent, CodeSystem and OperationDefinition', () => {
    expect(resources.map((r) => r.type)).toEqual(['Bundle', 'Patient', 'Consent', 'Task', 'Subscription', 'AuditEvent', 'CodeSystem', 'OperationDefinition'])
  })

  it("its security is OAuth bearer tokens from the caller organisation's identity provider, with the claims and the consent headers", () => {
    const security = rest?.security
    expect(security?.service?.[0]?.coding, JSON.stringify(security)).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth', display: 'OAuth' },
    ])
    for (const word of ['identity provider', 'sub', 'name', 'org', 'URA', 'org_type', 'role', 'big', 'BIG register', 'X-Consent-Token', 'X-Emergency-Reason']) {
      expect(security?.description, word).toContain(word)
    }
  })

  it('its cors flag says whether a preflight from an allowed origin is answered with CORS headers, without and with OVERDRACHT_CORS_ORIGINS', async () => {
    const origin = 'https://app.example'
    const withOrigins = await createTestApp({ settings: { corsOrigins: [origin] } })
    try {
      for (const app of [t, withOrigins]) {
        const statement = (await (await app.get('/fhir/metadata')).json()) as CapabilityStatement
        const res = await app.app.request('/fhir/metadata', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
        })
        const settings = JSON.stringify(app.deps.settings.corsOrigins)
        expect(statement.rest?.[0]?.security?.cors, `origins ${settings}: preflight answered ${res.status} with ${JSON.stringify(Object.fromEntries(res.headers))}`).toBe(
          res.headers.get('access-control-allow-origin') !== null,
        )
      }
    } finally {
      await withOrigins.close()
    }
  })

  it.each(['X-Consent-Token', 'X-Consent-Token-Expires', 'X-Emergency-Reason', 'X-Request-Id', 'traceparent'])(
    'the REST documentation explains %s',
    (word) => {
      expect(rest?.documentation).toContain(word)
    },
  )

  it.each(['Bundle', 'Consent', 'Task'])('%s is versioned and read', (type) => {
    const resource = resourceOf(type)
    expect(resource?.versioning, JSON.stringify(resource)).toBe('versioned')
    expect(resource?.interaction?.map((i) => i.code)).toContain('read')
  })

  it('a Bundle is read by version too (vread of _history/1)', () => {
    expect(resourceOf('Bundle')?.interaction?.map((i) => i.code)).toContain('vread')
  })

  it("the Bundle's documentation says each Bundle is its own version 1 and names the dossier-version extension", () => {
    const documentation = resourceOf('Bundle')?.documentation
    expect(documentation).toContain('https://overdracht.nl/fhir/StructureDefinition/dossier-version')
    expect(documentation).toContain('valueInteger')
    expect(documentation).toContain('meta.versionId')
  })

  // What each search route takes (its SearchSpec), plus the result parameters every search takes.
  it.each([
    ['Patient', PATIENT_SEARCH.params],
    ['Consent', CONSENT_SEARCH.params],
    ['Task', TASK_SEARCH.params],
    ['AuditEvent', AUDIT_EVENT_SEARCH.params],
  ])('%s is searched by %j and the result parameters, each with a type and documentation', (type, names) => {
    const resource = resourceOf(type)
    expect(resource?.interaction?.map((i) => i.code)).toContain('search-type')
    const params = resource?.searchParam ?? []
    expect(params.map((p) => p.name).sort(), JSON.stringify(params)).toEqual([...names, '_count', '_summary'].sort())
    for (const p of params) {
      expect(p.type, p.name).toBeTruthy()
      expect(p.documentation, p.name).toBeTruthy()
    }
  })

  it('a resource without a search interaction declares no search parameters', () => {
    for (const r of resources) {
      if (!r.interaction?.some((i) => i.code === 'search-type')) expect(r.searchParam, r.type).toBeUndefined()
    }
  })
})

describe('the OperationDefinitions', () => {
  const named = resources.flatMap((r) => (r.operation ?? []).map((op) => [r.type, op.name, op.definition] as const))

  it('the CapabilityStatement names the seven operations, each with its definition', () => {
    expect(named.map(([type, name]) => `${type}/$${name}`)).toEqual([
      'Patient/$handover',
      'Patient/$handelingsperspectief',
      'Patient/$access-log',
      'Patient/$erase',
      'Consent/$token',
      'Consent/$form-check',
      'Task/$escort-card',
    ])
  })

  it.each(named)("%s's operation $%s is defined at %s, served there without a token as a valid R4 OperationDefinition", async (type, name, definition) => {
    expect(definition).toBe(`https://overdracht.nl/fhir/OperationDefinition/${type}-${name}`)
    const { res, text } = await servedDefinition(definition)
    expect(res.status, text).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    const od = JSON.parse(text) as OperationDefinition
    expect(errorsOf(validateFhirResource(od)), text).toEqual([])
    expect(od, text).toMatchObject({ resourceType: 'OperationDefinition', id: `${type}-${name}`, url: definition, code: name, kind: 'operation', status: 'active' })
    expect(od.resource, text).toContain(type)
    expect(od.name, text).toMatch(/^[A-Z][A-Za-z0-9_]*$/)
    for (const p of od.parameter ?? []) {
      expect(p.use, p.name).toMatch(/^(in|out)$/)
      expect(p.min, p.name).toBeGreaterThanOrEqual(0)
      expect(p.max, p.name).toMatch(/^(\*|\d+)$/)
      expect(p.type ?? p.part, p.name).toBeTruthy()
    }
  })

  it('every OperationDefinition the service holds is named by the CapabilityStatement', () => {
    expect(OPERATION_DEFINITIONS.map((od) => od.url).sort()).toEqual(named.map(([, , definition]) => definition).sort())
  })

  it.each(['__proto__', 'constructor', 'toString', 'Patient-unknown', 'handover'])('GET /fhir/OperationDefinition/%s is 404 OperationOutcome', async (id) => {
    const res = await t.get(`/fhir/OperationDefinition/${id}`)
    const text = await res.text()
    expect(res.status, text).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    expect(JSON.parse(text)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] })
  })
})

describe('the CodeSystems', () => {
  it.each(['handelingsperspectief', 'handelingsperspectief-value', 'disclosure-legal-ground'])('GET /fhir/CodeSystem/%s is a valid R4 CodeSystem without a token', async (id) => {
    const res = await t.get(`/fhir/CodeSystem/${id}`)
    const text = await res.text()
    expect(res.status, text).toBe(200)
    expect(errorsOf(validateFhirResource(JSON.parse(text))), text).toEqual([])
  })

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'unknown-system'])('GET /fhir/CodeSystem/%s is 404 OperationOutcome', async (id) => {
    const res = await t.get(`/fhir/CodeSystem/${id}`)
    const text = await res.text()
    expect(res.status, text).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    expect(JSON.parse(text)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] })
  })
})

describe('every route under /fhir is described in the CapabilityStatement', () => {
  it.each(fhirRoutes.map((route) => [route.name, label(fhirMeaning(route)), route] as const))('%s is described as %s', async (_name, _label, route) => {
    const meaning = fhirMeaning(route)
    expect(meaning.kind, `${route.name} has no FHIR shape: describe it, or change the check in test/metadata.test.ts`).not.toBe('unknown')
    const type = 'type' in meaning ? meaning.type : ''
    const context = `${route.name}; the CapabilityStatement's ${type || 'rest'}: ${JSON.stringify(type ? (resourceOf(type) ?? null) : rest)}`
    if (meaning.kind === 'interaction') {
      expect(resourceOf(meaning.type)?.interaction?.map((i) => i.code), context).toContain(meaning.code)
      if (meaning.conditional) expect(resourceOf(meaning.type)?.conditionalUpdate, context).toBe(true)
    }
    if (meaning.kind === 'operation') {
      const op = resourceOf(meaning.type)?.operation?.find((o) => o.name === meaning.name)
      expect(op, context).toBeDefined()
      const { res, text } = await servedDefinition(op!.definition)
      expect(res.status, text).toBe(200)
      const od = JSON.parse(text) as OperationDefinition
      expect(od[meaning.level], `${route.name}: ${text}`).toBe(true)
      // FHIR allows GET only for an operation that does not affect state.
      if (route.method === 'GET') expect(od.affectsState, `${route.name}: ${text}`).toBe(false)
    }
  })
})

/*
 * The other way round: what the CapabilityStatement declares is routed. Another change is adding
 * the interactions below; remove each from the list once it is routed.
 */
const BEING_ADDED = new Set<string>()

describe('what the CapabilityStatement declares is routed', () => {
  const routed = new Set(fhirRoutes.map((r) => label(fhirMeaning(r))))
  const declared = resources.flatMap((r) => [
    ...(r.interaction ?? []).map((i) => `${r.type} ${i.code}`),
    ...(r.operation ?? []).flatMap((op) => {
      const od = OPERATION_DEFINITIONS.find((d) => d.url === op.definition)
      return (['type', 'instance'] as const).filter((level) => od?.[level]).map((level) => `${r.type} $${op.name} on the ${level}`)
    }),
  ])

  for (const d of declared) {
    it.skipIf(BEING_ADDED.has(d) && !routed.has(d))(`${d} has a route`, () => {
      expect([...routed]).toContain(d)
    })
  }
})
