import type { Bundle } from '@medplum/fhirtypes'
import { afterAll, describe, expect, it } from 'vitest'
import { FHIR_JSON, SYSTEM } from '../src/fhir/systems.js'
import { consentResource, newVNummer } from './support/fhir-builders.js'
import { appRoutes, PUBLIC_ROUTES, type AppRoute } from './support/security.js'
import { createTestApp } from './support/test-app.js'

/*
 * The headers that keep answers about people out of caches and pages out of frames. The routes
 * come from the app itself, so a route added later is covered without touching this file.
 */

// Top-level await: the route list must exist when the tests are collected.
const t = await createTestApp()
afterAll(async () => t.close())

const protectedRoutes = appRoutes(t.app).filter((r) => !PUBLIC_ROUTES.includes(r.name) && /^\/(fhir|admin)(\/|$)/.test(r.pattern))

async function send(route: AppRoute, token: string): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` }
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD' && route.method !== 'DELETE'
  if (hasBody) headers['content-type'] = FHIR_JSON
  return t.app.request(route.path, { method: route.method, headers, ...(hasBody ? { body: '{}' } : {}) })
}

async function patientWithConsent(): Promise<string> {
  const vNummer = newVNummer()
  const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(res.status, await res.text()).toBe(201)
  const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
  expect(search.status, await search.clone().text()).toBe(200)
  return ((await search.json()) as Bundle).entry![0]!.resource!.id!
}

describe('Cache-Control on authenticated answers', () => {
  it('GET /admin/emergency-reviews answers with Cache-Control: no-store', async () => {
    const res = await t.get('/admin/emergency-reviews', { as: 'privacyOfficer' })
    expect(res.status, await res.text()).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it.each(protectedRoutes.flatMap((route) => (['gzaDoctor', 'privacyOfficer'] as const).map((caller) => [route.name, caller, route] as const)))(
    '%s answers %s with Cache-Control: no-store, whatever the status',
    async (_routeName, caller, route) => {
      const res = await send(route, await t.tokenFor(caller))
      const text = await res.text()
      expect(res.status, text).not.toBe(401)
      expect(res.headers.get('cache-control'), text).toBe('no-store')
    },
  )

  it('an unknown path under /fhir or /admin answers with Cache-Control: no-store', async () => {
    for (const path of ['/fhir/Nothing-here', '/admin/nothing-here']) {
      const res = await t.get(path, { as: 'privacyOfficer' })
      expect(res.status, await res.text()).toBe(404)
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
  })

  it('the public key set keeps its own caching: the no-store rule is for authenticated answers only', async () => {
    const res = await t.get('/.well-known/jwks.json')
    expect(res.status, await res.text()).toBe(200)
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
  })
})

describe('the printable access log', () => {
  it('GET /fhir/Patient/:id/$access-log?_format=html may not be framed and is not stored', async () => {
    const patientId = await patientWithConsent()
    const res = await t.get(`/fhir/Patient/${patientId}/$access-log?_format=html&lang=en`, { as: 'privacyOfficer' })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const csp = (res.headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim())
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("default-src 'none'")
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })
})
