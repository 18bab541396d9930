import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

/** The web application's sign-in configuration (src/config.ts). */

const deployment = {
  OVERDRACHT_AUTH_ISSUER: 'https://idp.example',
  OVERDRACHT_AUTH_AUDIENCE: 'urn:overdracht',
  OVERDRACHT_AUTH_JWKS_URL: 'https://idp.example/jwks',
  OVERDRACHT_BIG_REGISTER_URL: 'https://big.example/soap',
  OVERDRACHT_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
}
const oidc = {
  OVERDRACHT_OIDC_ISSUER: 'https://idp.example/realms/overdracht',
  OVERDRACHT_OIDC_CLIENT_ID: 'overdracht-web',
  OVERDRACHT_OIDC_CLIENT_SECRET: 'secret',
}

describe('web sign-in configuration', () => {
  it('development mode without OVERDRACHT_OIDC_* signs people in at the development provider on http://localhost:<PORT>', () => {
    const config = loadConfig({ PORT: '8080' })
    expect(config.web).toEqual({ baseUrl: 'http://localhost:8080', oidc: 'development', sessionIdleMs: 30 * 60_000, sessionAbsoluteMs: 12 * 3600_000 })
  })

  it('a deployment with the OIDC client and a public base URL signs in there, with the session time-outs asked for', () => {
    const config = loadConfig({ ...deployment, ...oidc, OVERDRACHT_PUBLIC_BASE_URL: 'https://overdracht.example', OVERDRACHT_SESSION_IDLE_MINUTES: '15', OVERDRACHT_SESSION_MAX_HOURS: '8' })
    expect(config.web).toEqual({
      baseUrl: 'https://overdracht.example',
      oidc: { issuer: oidc.OVERDRACHT_OIDC_ISSUER, clientId: 'overdracht-web', clientSecret: 'secret', scope: 'openid profile' },
      sessionIdleMs: 15 * 60_000,
      sessionAbsoluteMs: 8 * 3600_000,
    })
  })

  it('a deployment without the OIDC client serves no pages', () => {
    expect(loadConfig(deployment).web).toBeUndefined()
  })

  it('part of the OIDC client is refused, naming the variables', () => {
    expect(() => loadConfig({ ...deployment, OVERDRACHT_OIDC_ISSUER: oidc.OVERDRACHT_OIDC_ISSUER })).toThrow(ConfigError)
    expect(() => loadConfig({ ...deployment, OVERDRACHT_OIDC_ISSUER: oidc.OVERDRACHT_OIDC_ISSUER })).toThrow(/OVERDRACHT_OIDC_CLIENT_ID/)
  })

  it('an http issuer outside development mode is refused', () => {
    expect(() => loadConfig({ ...deployment, ...oidc, OVERDRACHT_OIDC_ISSUER: 'http://idp.example', OVERDRACHT_PUBLIC_BASE_URL: 'https://overdracht.example' })).toThrow(/https/)
  })

  it('a deployment with the OIDC client but no public base URL is refused', () => {
    expect(() => loadConfig({ ...deployment, ...oidc })).toThrow(/OVERDRACHT_PUBLIC_BASE_URL/)
  })

  it('a deployment whose public base URL is plain http is refused: the session cookie must be Secure', () => {
    expect(() => loadConfig({ ...deployment, ...oidc, OVERDRACHT_PUBLIC_BASE_URL: 'http://overdracht.example' })).toThrow(/https/)
  })
})
