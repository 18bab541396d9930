import { availableParallelism } from 'node:os'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.js'

const key = Buffer.alloc(32, 7).toString('base64')
const idp = { OVERDRACHT_AUTH_ISSUER: 'https://idp', OVERDRACHT_AUTH_AUDIENCE: 'overdracht', OVERDRACHT_AUTH_JWKS_URL: 'https://idp/jwks' }

describe('configuration', () => {
  it('with nothing set the service runs in development mode on embedded PostgreSQL', () => {
    const c = loadConfig({})
    expect(c.settings.developmentMode).toBe(true)
    expect(c.database.kind).toBe('embedded')
    expect(c.port).toBe(8080)
  })
  it('a database server without an identity provider is refused unless development mode is asked for by name', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/overdracht' })).toThrow(ConfigError)
    expect(() => loadConfig({ OVERDRACHT_MASTER_KEY: key })).toThrow(/OVERDRACHT_DEVELOPMENT_MODE/)
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x', OVERDRACHT_DEVELOPMENT_MODE: '1' }).settings.developmentMode).toBe(true)
  })
  it('an identity provider needs a BIG register and a master key', () => {
    expect(() => loadConfig({ ...idp })).toThrow(/BIG_REGISTER/)
    expect(() => loadConfig({ ...idp, OVERDRACHT_BIG_REGISTER_URL: 'https://big' })).toThrow(/MASTER_KEY/)
    const c = loadConfig({ ...idp, OVERDRACHT_BIG_REGISTER_URL: 'https://big', OVERDRACHT_MASTER_KEY: key })
    expect(c.settings.developmentMode).toBe(false)
  })
  it('a JWKS must come from exactly one place', () => {
    expect(() => loadConfig({ ...idp, OVERDRACHT_AUTH_JWKS_FILE: '/x.json', OVERDRACHT_BIG_REGISTER_URL: 'https://big', OVERDRACHT_MASTER_KEY: key })).toThrow(/exactly one/)
  })
  it('the public base URL is an http(s) origin with an optional path, kept without its trailing slash', () => {
    expect(loadConfig({}).settings.publicBaseUrl).toBeUndefined()
    expect(loadConfig({ OVERDRACHT_PUBLIC_BASE_URL: 'https://overdracht.example/' }).settings.publicBaseUrl).toBe('https://overdracht.example')
    for (const bad of ['ftp://x', 'not a url', 'https://x/?a=1', 'https://user:pw@x']) {
      expect(() => loadConfig({ OVERDRACHT_PUBLIC_BASE_URL: bad }), bad).toThrow(/OVERDRACHT_PUBLIC_BASE_URL/)
    }
  })
  it('CORS origins are origins: scheme, host and port, no path', () => {
    expect(loadConfig({}).settings.corsOrigins).toEqual([])
    expect(loadConfig({ OVERDRACHT_CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).settings.corsOrigins).toEqual(['https://a.example', 'http://localhost:3000'])
    for (const bad of ['https://a.example/', 'a.example', 'https://a.example/app', '*']) {
      expect(() => loadConfig({ OVERDRACHT_CORS_ORIGINS: bad }), bad).toThrow(/OVERDRACHT_CORS_ORIGINS/)
    }
  })
  it('metrics are off unless a port is set; the port, host and token are checked and named', () => {
    expect(loadConfig({}).metrics).toBeUndefined()
    expect(loadConfig({ OVERDRACHT_METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1', token: undefined })
    expect(loadConfig({ OVERDRACHT_METRICS_PORT: '9464', HOST: '0.0.0.0' }).metrics?.host).toBe('0.0.0.0')
    expect(() => loadConfig({ OVERDRACHT_METRICS_PORT: 'x' })).toThrow(/OVERDRACHT_METRICS_PORT/)
    expect(() => loadConfig({ OVERDRACHT_METRICS_PORT: '8080' })).toThrow(/OVERDRACHT_METRICS_PORT must differ from PORT/)
    expect(() => loadConfig({ OVERDRACHT_METRICS_PORT: '9464', OVERDRACHT_METRICS_TOKEN: 'short' })).toThrow(/OVERDRACHT_METRICS_TOKEN/)
    expect(() => loadConfig({ OVERDRACHT_METRICS_TOKEN: 'a-long-enough-token-123' })).toThrow(/need OVERDRACHT_METRICS_PORT/)
  })
  it('numbers are checked and named', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/)
    expect(() => loadConfig({ OVERDRACHT_RETENTION_DAYS: '-1' })).toThrow(/OVERDRACHT_RETENTION_DAYS/)
  })
  it('service processes: one per core with a PostgreSQL server, one with the embedded database or the development sign-in', () => {
    const production = { ...idp, OVERDRACHT_BIG_REGISTER_URL: 'https://big', OVERDRACHT_MASTER_KEY: key, DATABASE_URL: 'postgres://db/x' }
    expect(loadConfig(production).workers).toBe(availableParallelism())
    expect(loadConfig({ ...production, OVERDRACHT_WORKERS: '3' }).workers).toBe(3)
    expect(loadConfig({}).workers).toBe(1)
    expect(() => loadConfig({ OVERDRACHT_WORKERS: '2' })).toThrow(/OVERDRACHT_WORKERS above 1 needs a PostgreSQL server/)
    expect(() => loadConfig({ ...production, OVERDRACHT_WORKERS: '0' })).toThrow(/OVERDRACHT_WORKERS/)
    const development = { DATABASE_URL: 'postgres://db/x', OVERDRACHT_DEVELOPMENT_MODE: '1' }
    expect(loadConfig(development).workers).toBe(1)
    expect(loadConfig(development).web?.oidc).toBe('development')
    // Asked for by name: the API in every process, the development sign-in off.
    const several = loadConfig({ ...development, OVERDRACHT_WORKERS: '2' })
    expect(several.workers).toBe(2)
    expect(several.web).toBeUndefined()
  })
  it('keys, key files and URLs are checked at start-up, before the database is opened, naming the variable', () => {
    const base = { ...idp, OVERDRACHT_BIG_REGISTER_URL: 'https://big', OVERDRACHT_MASTER_KEY: key }
    expect(() => loadConfig({ ...base, OVERDRACHT_MASTER_KEY: 'too-short' })).toThrow(/OVERDRACHT_MASTER_KEY must be 32/)
    expect(() => loadConfig({ ...base, OVERDRACHT_MASTER_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/OVERDRACHT_MASTER_KEY/)
    expect(() => loadConfig({ ...base, DATABASE_URL: 'mysql://db/x' })).toThrow(/DATABASE_URL/)
    expect(() => loadConfig({ ...base, DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/)
    expect(() => loadConfig({ ...base, OVERDRACHT_BIG_REGISTER_URL: 'ftp://big' })).toThrow(/OVERDRACHT_BIG_REGISTER_URL/)
    const dir = mkdtempSync(join(tmpdir(), 'overdracht-config-'))
    const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name))
    const withFile = (path: string) => ({ ...base, OVERDRACHT_AUTH_JWKS_URL: undefined, OVERDRACHT_AUTH_JWKS_FILE: path })
    expect(() => loadConfig(withFile(join(dir, 'missing.json')))).toThrow(/OVERDRACHT_AUTH_JWKS_FILE: cannot read/)
    expect(() => loadConfig(withFile(file('bad.json', '{not json')))).toThrow(/OVERDRACHT_AUTH_JWKS_FILE is not JSON/)
    expect(() => loadConfig(withFile(file('empty.json', '{"keys": []}')))).toThrow(/JWK set/)
    expect(loadConfig(withFile(file('ok.json', '{"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}]}'))).auth?.jwks?.keys).toHaveLength(1)
  })
})
