import type { OperationOutcome } from '@medplum/fhirtypes'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { FHIR_JSON } from '../src/fhir/systems.js'
import { consentResource, newVNummer } from './support/fhir-builders.js'
import { BIG, CALLERS } from './support/people.js'
import {
  appRoutes,
  hs256Jwt,
  PUBLIC_ROUTES,
  secretParts,
  spkiPem,
  standardClaims,
  unsecuredJwt,
  withPayload,
  type AppRoute,
} from './support/security.js'
import { createTestApp } from './support/test-app.js'

/*
 * Caller authentication on every route that needs it. The routes come from the app itself, so a
 * route added later is covered without touching this file; one app serves the whole file.
 */

// Top-level await: the route list must exist when the tests are collected.
const t = await createTestApp()
afterAll(async () => t.close())

const tolerance = t.deps.callerKeys.clockToleranceSeconds
const foreignEc = await generateKeyPair('ES256', { extractable: true })
const foreignRsa = await generateKeyPair('RS256')
const gza = CALLERS.gzaDoctor

const allRoutes = appRoutes(t.app)
const isPublic = (route: AppRoute) => PUBLIC_ROUTES.includes(route.name)
const protectedRoutes = allRoutes.filter((r) => !isPublic(r) && /^\/(fhir|admin)(\/|$)/.test(r.pattern))

const KNOWN_PROTECTED = [
  'POST /fhir/Bundle',
  'GET /fhir/Bundle/:id',
  'GET /fhir/Patient/:id/$handover',
  'GET /fhir/Patient',
  'POST /fhir/Consent',
  'PUT /fhir/Consent/:id',
  'POST /fhir/Consent/:id/$token',
  'GET /admin/emergency-reviews',
]

/** What a request presents: an Authorization header, or a token somewhere it does not belong. */
interface Presented {
  authorization?: string
  query?: string
  /** Strings that must never come back in an answer or reach the log. */
  secrets: string[]
}

interface Credential {
  name: string
  /** The header is `Bearer <token68>`, so the challenge must say `error="invalid_token"`. */
  isBearerToken: boolean
  present(): Promise<Presented>
}

const bearer = (token: string): Presented => ({ authorization: `Bearer ${token}`, secrets: secretParts(token) })
const bearerOf = (name: string, make: () => Promise<string> | string): Credential => ({
  name,
  isBearerToken: true,
  present: async () => bearer(await make()),
})
/** A correctly signed token for the GZA doctor with some claims changed or dropped (`undefined`). */
const claimsChanged = (name: string, overrides: Record<string, unknown>) => bearerOf(name, () => t.idp.token({ ...gza, ...overrides }))

let serviceConsentToken: string | undefined
async function consentTokenOfThisService(): Promise<string> {
  if (serviceConsentToken) return serviceConsentToken
  const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer: newVNummer() }) })
  expect(res.status, await res.clone().text()).toBe(201)
  serviceConsentToken = res.headers.get('x-consent-token') ?? undefined
  expect(serviceConsentToken).toBeTruthy()
  return serviceConsentToken!
}

const CREDENTIALS: Credential[] = [
  { name: 'a request without an Authorization header', isBearerToken: false, present: async () => ({ secrets: [] }) },
  {
    name: 'Basic credentials',
    isBearerToken: false,
    present: async () => {
      const basic = Buffer.from('gza-doctor-1:correct-horse-battery').toString('base64')
      return { authorization: `Basic ${basic}`, secrets: [basic] }
    },
  },
  { name: 'an empty Bearer token', isBearerToken: false, present: async () => ({ authorization: 'Bearer ', secrets: [] }) },
  {
    name: 'a Bearer value that is not token68 syntax',
    isBearerToken: false,
    present: async () => ({ authorization: 'Bearer {"sub":"gza-doctor-1"} x', secrets: ['{"sub":"gza-doctor-1"}'] }),
  },
  // A token and a second one in the same header: the header must be refused as a whole.
  {
    name: 'two Bearer tokens in one header',
    isBearerToken: false,
    present: async () => {
      const token = await t.tokenFor('gzaDoctor')
      return { authorization: `Bearer garbage, Bearer ${token}`, secrets: secretParts(token) }
    },
  },
  bearerOf('a garbage Bearer token', () => 'this-is-not-a-jwt-b7d0c6f1e2'),
  bearerOf('a malformed JWT with two segments', async () => {
    const [header, payload] = (await t.tokenFor('gzaDoctor')).split('.')
    return `${header}.${payload}`
  }),
  bearerOf('an ES256 token with its signature stripped', async () => {
    const [header, payload] = (await t.tokenFor('gzaDoctor')).split('.')
    return `${header}.${payload}.`
  }),
  bearerOf('a signed token whose payload was altered', async () =>
    withPayload(await t.tokenFor('gzaDoctor'), (claims) => ({ ...claims, role: 'privacy-officer', sub: 'someone-else' })),
  ),
  bearerOf('an expired token', () => t.idp.token(gza, { expiresIn: -(tolerance + 60) })),
  bearerOf('a token that is not yet valid (nbf in the future)', () => t.idp.token(gza, { notBefore: tolerance + 60 })),
  bearerOf('a token from the wrong issuer', () => t.idp.token(gza, { issuer: 'https://idp.attacker.example' })),
  bearerOf('a token for the wrong audience', () => t.idp.token(gza, { audience: 'urn:some-other-service' })),
  bearerOf('a token with an unknown kid', () => t.idp.token(gza, { kid: 'unknown-kid-1' })),
  bearerOf('a token signed by a foreign ES256 key under the trusted kid', () => t.idp.token(gza, { key: foreignEc.privateKey })),
  bearerOf('a token that carries its own foreign key in the jwk header', async () =>
    new SignJWT(standardClaims(t.clock, gza))
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: await exportJWK(foreignEc.publicKey) })
      .sign(foreignEc.privateKey),
  ),
  bearerOf('an unsecured token (alg: none)', () => unsecuredJwt(standardClaims(t.clock, gza))),
  bearerOf('an unsecured token (alg: none) under the trusted kid', () =>
    unsecuredJwt(standardClaims(t.clock, gza), { alg: 'none', typ: 'JWT', kid: t.idp.kid }),
  ),
  bearerOf('an HS256 token keyed with the trusted public JWK', () =>
    hs256Jwt(standardClaims(t.clock, gza), JSON.stringify(t.idp.publicJwk), { kid: t.idp.kid }),
  ),
  bearerOf('an HS256 token keyed with the trusted public key as PEM', () =>
    hs256Jwt(standardClaims(t.clock, gza), spkiPem(t.idp.publicJwk), { kid: t.idp.kid }),
  ),
  bearerOf('an RS256 token signed with an unrelated RSA key', () =>
    t.idp.token(gza, { alg: 'RS256', key: foreignRsa.privateKey }),
  ),
  bearerOf('a token of type consent+jwt', () => t.idp.token(gza, { typ: 'consent+jwt' })),
  bearerOf('a consent token issued by this service', consentTokenOfThisService),
  bearerOf('a token without exp', () =>
    new SignJWT(standardClaims(t.clock, gza, { exp: undefined }))
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: t.idp.kid })
      .sign(t.idp.privateKey),
  ),
  claimsChanged('a token without sub', { sub: undefined }),
  claimsChanged('a token without org', { org: undefined }),
  claimsChanged('a token without role', { role: undefined }),
  claimsChanged('a token with an unknown role', { role: 'admin' }),
  claimsChanged('a token with an unknown org_type', { org_type: 'hospital' }),
  claimsChanged('a caregiver token without big', { big: undefined }),
  claimsChanged('a token whose big is not 11 digits', { big: '1234' }),
  claimsChanged('a token whose big is a number', { big: Number(BIG.gzaArts) }),
  // PostgreSQL refuses NUL in text: such a claim must be refused here, not fail as a 500 later.
  ...(['sub', 'name', 'org', 'org_type', 'role', 'big'] as const).map((claim) =>
    claimsChanged(`a token whose ${claim} holds a NUL byte`, { [claim]: `${gza[claim]}\u0000` }),
  ),
  claimsChanged('a token whose sub holds a control character', { sub: `${gza.sub}\u001b[2J` }),
  claimsChanged('a token whose name holds a line break', { name: `${gza.name}\nrole: privacy-officer` }),
  {
    name: 'a valid token in the access_token query parameter',
    isBearerToken: false,
    present: async () => {
      const token = await t.tokenFor('gzaDoctor')
      return { query: `access_token=${token}`, secrets: secretParts(token) }
    },
  },
]

/** Every secret this file presented, for the log check at the end. */
const presentedSecrets = new Set<string>()

async function send(route: AppRoute, presented: Presented): Promise<Response> {
  for (const secret of presented.secrets) presentedSecrets.add(secret)
  const headers: Record<string, string> = {}
  if (presented.authorization !== undefined) headers.authorization = presented.authorization
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD' && route.method !== 'DELETE'
  if (hasBody) headers['content-type'] = FHIR_JSON
  const url = presented.query ? `${route.path}?${presented.query}` : route.path
  return t.app.request(url, { method: route.method, headers, ...(hasBody ? { body: '{}' } : {}) })
}

async function expectRefused(res: Response, credential: Credential, presented: Presented): Promise<void> {
  const text = await res.text()
  expect(res.status, text).toBe(401)
  expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
  expect(res.headers.get('cache-control')).toBe('no-store')
  const challenge = res.headers.get('www-authenticate')
  expect(challenge).toMatch(/^Bearer\s/)
  if (credential.isBearerToken) expect(challenge).toContain('error="invalid_token"')
  const outcome = JSON.parse(text) as OperationOutcome
  expect(outcome.resourceType).toBe('OperationOutcome')
  expect(outcome.issue.map((i) => i.code)).toEqual(['login'])
  const headerText = [...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n')
  for (const secret of presented.secrets) {
    expect(text).not.toContain(secret)
    expect(headerText).not.toContain(secret)
  }
}

describe('the route enumeration', () => {
  it('finds every known authenticated route', () => {
    expect(protectedRoutes.map((r) => r.name)).toEqual(expect.arrayContaining(KNOWN_PROTECTED))
  })

  it('leaves no route outside /fhir and /admin unless it is public', () => {
    expect(allRoutes.filter((r) => !isPublic(r) && !protectedRoutes.includes(r)).map((r) => r.name)).toEqual([])
  })
})

const matrix = protectedRoutes.flatMap((route) => CREDENTIALS.map((credential) => [credential.name, route.name, credential, route] as const))

describe('caller authentication', () => {
  it.each(matrix)('%s is refused with 401 on %s', async (_credentialName, _routeName, credential, route) => {
    const presented = await credential.present()
    await expectRefused(await send(route, presented), credential, presented)
  })

  it.each(protectedRoutes.flatMap((route) => (['gzaDoctor', 'privacyOfficer'] as const).map((caller) => [caller, route.name, route] as const)))(
    'a valid token of %s passes authentication on %s',
    async (caller, _routeName, route) => {
      const res = await send(route, bearer(await t.tokenFor(caller)))
      const text = await res.text()
      expect(res.status, text).not.toBe(401)
      expect(res.status, text).toBeLessThan(500)
    },
  )
})

describe('after the refusals', () => {
  it('the service still answers GET /fhir/metadata with 200', async () => {
    const res = await t.app.request('/fhir/metadata')
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('CapabilityStatement')
  })

  it('no log line contains a presented token', async () => {
    // Self-sufficient when run alone: every credential once more on the first route.
    const route = protectedRoutes[0]!
    for (const credential of CREDENTIALS) await send(route, await credential.present())
    expect(t.logLines.length).toBeGreaterThan(0)
    expect(presentedSecrets.size).toBeGreaterThan(0)
    const log = t.logLines.join('\n')
    for (const secret of presentedSecrets) expect(log.includes(secret), `the log holds ${secret.slice(0, 24)}…`).toBe(false)
  })
})

describe('the Bearer challenge (RFC 6750 section 3)', () => {
  it('no credential: a challenge without an error code; a malformed header: invalid_request; a refused token: invalid_token', async () => {
    const none = await t.app.request('/fhir/Patient?identifier=x')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="overdracht"')
    const malformed = await t.app.request('/fhir/Patient?identifier=x', { headers: { authorization: 'Basic dXNlcjpwdw==' } })
    expect(malformed.headers.get('www-authenticate')).toBe('Bearer realm="overdracht", error="invalid_request"')
    const refused = await t.app.request('/fhir/Patient?identifier=x', { headers: { authorization: 'Bearer not.a.token' } })
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="overdracht", error="invalid_token"')
  })
})
