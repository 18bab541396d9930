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
  it('numbers are checked and named', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/)
    expect(() => loadConfig({ OVERDRACHT_RETENTION_DAYS: '-1' })).toThrow(/OVERDRACHT_RETENTION_DAYS/)
  })
})
