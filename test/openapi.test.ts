import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { VERSION } from '../src/app.js'
import { openApiDocument } from '../src/http/openapi.js'
import { createMetrics } from '../src/metrics/metrics.js'
import { createMetricsApp } from '../src/metrics/metrics-app.js'
import { appRoutes, type AppRoute } from './support/security.js'
import { createTestApp } from './support/test-app.js'

/*
 * The OpenAPI document of the endpoints outside /fhir, as the app serves it: lint-clean with
 * @redocly/cli, and covering every route the app and the metrics listener have outside /fhir.
 */

// Top-level await: the route lists must exist when the tests are collected.
const t = await createTestApp()
const dir = await mkdtemp(join(tmpdir(), 'overdracht-openapi-'))
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  await t.close()
})

const served = await t.get('/openapi.json')
const servedText = await served.text()
type Operation = { operationId?: string; summary?: string; tags?: string[]; security?: object[]; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }
type PathItem = Record<string, Operation> & { servers?: { url: string }[] }
const doc = JSON.parse(servedText) as { servers?: { url: string }[]; paths: Record<string, PathItem> }

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']
const openApiPath = (route: AppRoute) => route.pattern.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, '{$1}')
const operationOf = (route: AppRoute) => doc.paths[openApiPath(route)]?.[route.method.toLowerCase()]

const apiRoutes = appRoutes(t.app).filter((r) => !/^\/fhir(\/|$)/.test(r.pattern))
const metricsRoutes = appRoutes(createMetricsApp(createMetrics().registry, undefined))

const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((m) => ({ name: `${m.toUpperCase()} ${path}`, path, method: m, operation: item[m]!, item })),
)

/** The CLI the project pins, run by the node running the tests: no npx resolution, no network. */
const redocly = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin', 'cli.js')

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number }
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[]
}

describe('the OpenAPI document at GET /openapi.json', () => {
  it('GET /openapi.json answers the OpenAPI 3.1 document of this version', () => {
    expect(served.status, servedText).toBe(200)
    expect(served.headers.get('content-type')).toMatch(/^application\/json/)
    expect(doc, servedText).toEqual(openApiDocument(VERSION))
    expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: 'Overdracht', version: VERSION } })
  })

  it(
    'the served document is lint-clean with @redocly/cli: no errors, no warnings',
    async () => {
      const file = join(dir, 'openapi.json')
      await writeFile(file, servedText)
      // Telemetry and the update check would reach the network; CI may have none.
      const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }
      let stdout: string
      let stderr: string
      try {
        ;({ stdout, stderr } = await promisify(execFile)(process.execPath, [redocly, 'lint', file, '--format=json', '--max-problems=1000'], { env, timeout: 60_000 }))
      } catch (err) {
        // Exit status 1 with errors: the report is still on stdout.
        ;({ stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string })
      }
      let report: LintReport
      try {
        report = JSON.parse(stdout) as LintReport
      } catch {
        throw new Error(`redocly lint wrote no JSON report.\nstdout: ${stdout}\nstderr: ${stderr}`)
      }
      const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location.map((l) => l.pointer).join(', ')}: ${p.message}`)
      expect(problems).toEqual([])
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 })
    },
    90_000,
  )

  it('the API is its own server, at the origin the document is served from', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })])
  })

  it.each(documented.map((d) => [d.name, d] as const))('%s has an operationId, a summary, tags and responses with schemas', (_name, d) => {
    const context = JSON.stringify(d.operation)
    expect(d.operation.operationId, context).toMatch(/^[a-z][A-Za-z]+$/)
    expect(d.operation.summary, context).toBeTruthy()
    expect(d.operation.tags?.length, context).toBeGreaterThan(0)
    expect(d.operation.security, `${context}: security is stated on every operation, [] when public`).toBeDefined()
    const responses = Object.entries(d.operation.responses ?? {})
    expect(responses.some(([status]) => /^2/.test(status)), context).toBe(true)
    for (const [status, response] of responses) {
      if (status === '204') continue
      // A $ref names a component response, which has its own content.
      if ('$ref' in response) continue
      const media = Object.values(response.content ?? {})
      expect(media.length, `${d.name} ${status}: ${context}`).toBeGreaterThan(0)
      for (const m of media) expect(m.schema, `${d.name} ${status}: ${context}`).toBeDefined()
    }
  })

  it('every operationId is unique', () => {
    const ids = documented.map((d) => d.operation.operationId)
    expect(new Set(ids).size, JSON.stringify(ids)).toBe(ids.length)
  })
})

describe('every route outside /fhir is in the OpenAPI document', () => {
  it.each(apiRoutes.map((r) => [r.name, r] as const))('%s is described in the OpenAPI paths', (_name, route) => {
    expect(operationOf(route), `${route.name} as ${route.method.toLowerCase()} ${openApiPath(route)}; paths: ${Object.keys(doc.paths).join(', ')}`).toBeDefined()
    // The API's own paths are on the document's server.
    expect(doc.paths[openApiPath(route)]?.servers, route.name).toBeUndefined()
  })

  it.each(metricsRoutes.map((r) => [r.name, r] as const))("the metrics listener's %s is described, on its own server", (_name, route) => {
    expect(operationOf(route), route.name).toBeDefined()
    expect(doc.paths[openApiPath(route)]?.servers?.[0]?.url, JSON.stringify(doc.paths[openApiPath(route)])).toMatch(/^http:\/\/\{host\}:\{port\}$/)
  })

  it.each(documented.map((d) => [d.name, d] as const))('%s in the document is a route of the app or the metrics listener', (name) => {
    const routed = [...apiRoutes, ...metricsRoutes].map((r) => `${r.method} ${openApiPath(r)}`)
    expect(routed, name).toContain(name)
  })
})

describe('what the document says of tokens holds', () => {
  const onApi = documented.filter((d) => !d.item.servers)

  it.each(onApi.map((d) => [d.name, d] as const))('%s without a token is answered as its security says', async (name, d) => {
    const path = d.path.replace(/\{[^}]+\}/g, 'a1b2c3')
    const res = await t.app.request(path, { method: d.method.toUpperCase(), ...(d.method === 'post' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}) })
    const text = await res.text()
    const needsToken = (d.operation.security ?? []).some((requirement) => Object.keys(requirement).length > 0)
    if (needsToken) {
      expect(res.status, `${name}: ${text}`).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /)
    } else {
      expect(res.status, `${name}: ${text}`).toBe(200)
    }
    expect(Object.keys(d.operation.responses ?? {}), `${name} answered ${res.status}, which the document does not list`).toContain(String(res.status))
  })
})
