import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cookieSecurity } from '../src/web/session.js'
import { DEFAULT_SESSION_ABSOLUTE_MS, DEFAULT_SESSION_IDLE_MS } from '../src/web/web-settings.js'
import { CookieJar, startWebApp, text, type WebTestApp } from './support/web-app.js'

/**
 * Web sessions through the real sign-in of the development OpenID provider, over real HTTP: what
 * is refused (forged, expired, signed-out sessions; forms without the session's CSRF token) and
 * how the cookie and the table keep the session.
 */

const MINUTE = 60_000
const SESSION = 'overdracht-session'
let w: WebTestApp

beforeAll(async () => {
  w = await startWebApp()
})
afterAll(async () => w?.close())

const jar = () => new CookieJar(w.baseUrl)

async function signedIn(sub = 'dev-regievoerder') {
  const j = jar()
  const home = await j.signIn(sub)
  const html = await text(home)
  expect(home.status, html).toBe(200)
  return { j, html, csrf: j.csrfOf(html) }
}

/** A form post that needs a session and its CSRF token: announcing a departure (invalid on purpose). */
const announce = (j: CookieJar, csrf?: string) =>
  j.fetch('/app/departures', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...(csrf !== undefined ? { _csrf: csrf } : {}), vnummer: '', owner: 'x', date: '' }).toString(),
  })

describe('signing in', () => {
  it('the sign-in page answers in Dutch with a sign-in button, no-store and a strict CSP', async () => {
    const res = await jar().fetch('/')
    const html = await text(res)
    expect(res.status, html).toBe(200)
    expect(html).toContain('<h1>Aanmelden</h1>')
    expect(html).toContain('href="/auth/sign-in"')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
  })

  it('the real sign-in through the development provider ends on the person’s home page with their name', async () => {
    const { html } = await signedIn()
    expect(html).toContain('<h1>Mijn taken</h1>')
    expect(html).toContain('Aangemeld als R. Regie')
  })

  it('the session cookie is HttpOnly, SameSite=Lax and for the whole site; Secure except on http://localhost', async () => {
    const j = jar()
    let res = await j.fetch('/auth/sign-in')
    res = await j.fetch(res.headers.get('location')!)
    const interaction = new URL(res.headers.get('location')!, w.baseUrl)
    await j.fetch(interaction.href)
    res = await j.fetch(`${interaction.pathname}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'sub=dev-regievoerder' })
    res = await j.fetch(res.headers.get('location')!)
    res = await j.fetch(res.headers.get('location')!)
    const line = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION}=`))
    expect(line, res.headers.getSetCookie().join('\n')).toBeDefined()
    expect(line).toMatch(/HttpOnly/i)
    expect(line).toMatch(/SameSite=Lax/i)
    expect(line).toMatch(/Path=\//)
    expect(cookieSecurity({ baseUrl: 'https://overdracht.example', oidc: 'development', sessionIdleMs: 1, sessionAbsoluteMs: 1 })).toEqual({
      secure: true,
      sessionCookie: '__Host-overdracht-session',
      signInCookie: '__Host-overdracht-sign-in',
    })
  })

  it("the development provider's login page without a sign-in under way answers 400 with the sign-in-failed page, not 500", async () => {
    for (const [method, path] of [['GET', '/dev-idp/interaction/abc'], ['POST', '/dev-idp/interaction/abc/login']] as const) {
      const res = await jar().fetch(path, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'sub=dev-gza-arts' } : {}) })
      const html = await text(res)
      expect(res.status, html).toBe(400)
      expect(html).toContain('Aanmelden is niet gelukt')
    }
  })

  it('after sign-out, signing in again asks who is there: the provider is told prompt=login', async () => {
    const { j } = await signedIn()
    const start = await j.fetch('/auth/sign-in', { redirect: 'manual' })
    const location = start.headers.get('location') ?? ''
    expect(new URL(location, w.baseUrl).searchParams.get('prompt'), location).toBe('login')
  })

  it('a sign-in gives a new session id, never the one the browser brought along', async () => {
    const { j } = await signedIn()
    const first = j.cookies.get(SESSION)!
    const second = (await j.signIn('dev-regievoerder'), j.cookies.get(SESSION)!)
    expect(second).not.toBe(first)
    // The earlier session ended with the new sign-in.
    const old = jar()
    old.cookies.set(SESSION, first)
    expect(await text(await old.fetch('/'))).toContain('<h1>Aanmelden</h1>')
  })

  it('the table keeps only a hash of the session id', async () => {
    const { j } = await signedIn()
    const id = j.cookies.get(SESSION)!
    const rows = await w.t.db.selectFrom('web_session').selectAll().execute()
    expect(rows.length).toBeGreaterThan(0)
    expect(JSON.stringify(rows)).not.toContain(id)
  })

  it('a callback without its pending sign-in is refused', async () => {
    const res = await jar().fetch('/auth/callback?code=x&state=y')
    expect(res.status, await text(res)).toBe(400)
    expect(await text(res)).toContain('Aanmelden is niet gelukt')
  })

  it('a callback with a state of another sign-in is refused', async () => {
    const j = jar()
    let res = await j.fetch('/auth/sign-in')
    const location = new URL(res.headers.get('location')!)
    res = await j.fetch(location.href)
    const interaction = new URL(res.headers.get('location')!, w.baseUrl)
    await j.fetch(interaction.href)
    res = await j.fetch(`${interaction.pathname}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'sub=dev-regievoerder' })
    res = await j.fetch(res.headers.get('location')!)
    const callback = new URL(res.headers.get('location')!)
    callback.searchParams.set('state', 'forged-state')
    res = await j.fetch(`${callback.pathname}${callback.search}`)
    expect(res.status, await text(res)).toBe(400)
    expect(j.cookies.has(SESSION)).toBe(false)
  })
})

describe('sessions that are refused', () => {
  it('a forged session cookie is refused: the sign-in page, and 401 for a form', async () => {
    const j = jar()
    j.cookies.set(SESSION, 'A'.repeat(43))
    expect(await text(await j.fetch('/'))).toContain('<h1>Aanmelden</h1>')
    const res = await announce(j, 'anything')
    expect(res.status, await text(res)).toBe(401)
    expect(await text(res)).toContain('Uw sessie is verlopen')
  })

  it('a session idle longer than the idle time-out is refused', async () => {
    const { j, csrf } = await signedIn()
    w.t.clock.advance(DEFAULT_SESSION_IDLE_MS + MINUTE)
    const res = await announce(j, csrf)
    expect(res.status, await text(res)).toBe(401)
    expect(await text(await j.fetch('/'))).toContain('<h1>Aanmelden</h1>')
  })

  it('a session in use is refused after the absolute time-out', async () => {
    const { j, csrf } = await signedIn()
    for (let elapsed = 0; elapsed < DEFAULT_SESSION_ABSOLUTE_MS; elapsed += DEFAULT_SESSION_IDLE_MS / 2) {
      w.t.clock.advance(DEFAULT_SESSION_IDLE_MS / 2)
      if (elapsed + DEFAULT_SESSION_IDLE_MS / 2 < DEFAULT_SESSION_ABSOLUTE_MS) expect(await text(await j.fetch('/'))).toContain('<h1>Mijn taken</h1>')
    }
    w.t.clock.advance(MINUTE)
    const res = await announce(j, csrf)
    expect(res.status, await text(res)).toBe(401)
  })

  it('a session used after sign-out is refused', async () => {
    const { j, csrf } = await signedIn()
    const id = j.cookies.get(SESSION)!
    const out = await j.fetch('/auth/sign-out', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(csrf)}` })
    expect(out.status, await text(out)).toBe(303)
    // Sign-out ends the session at the provider too.
    expect(new URL(out.headers.get('location')!).pathname).toBe('/dev-idp/session/end')
    expect(new URL(out.headers.get('location')!).searchParams.get('id_token_hint')).toBeTruthy()
    const replay = jar()
    replay.cookies.set(SESSION, id)
    const res = await announce(replay, csrf)
    expect(res.status, await text(res)).toBe(401)
    expect(await text(await replay.fetch('/'))).toContain('<h1>Aanmelden</h1>')
  })

  it('a form without a CSRF token is refused', async () => {
    const { j } = await signedIn()
    const res = await announce(j)
    expect(res.status, await text(res)).toBe(403)
    expect(await text(res)).toContain('Dit formulier is niet meer geldig')
  })

  it('a form with a wrong CSRF token is refused', async () => {
    const { j, csrf } = await signedIn()
    const res = await announce(j, `${csrf.slice(0, -2)}xx`)
    expect(res.status, await text(res)).toBe(403)
  })

  it('a form with the CSRF token of another session is refused', async () => {
    const a = await signedIn()
    const b = await signedIn()
    const res = await announce(a.j, b.csrf)
    expect(res.status, await text(res)).toBe(403)
  })

  it('a form from another origin is refused, even with the right token', async () => {
    const { j, csrf } = await signedIn()
    const res = await j.fetch('/app/departures', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ _csrf: csrf, vnummer: 'V1', owner: '90000005', date: '2026-12-01' }).toString(),
    })
    expect(res.status, await text(res)).toBe(403)
  })

  it('sign-out without the CSRF token is refused and the session stays', async () => {
    const { j } = await signedIn()
    const res = await j.fetch('/auth/sign-out', { method: 'POST' })
    expect(res.status, await text(res)).toBe(403)
    expect(await text(await j.fetch('/'))).toContain('<h1>Mijn taken</h1>')
  })
})
