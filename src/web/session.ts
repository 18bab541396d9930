import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { Deps } from '../deps.js'
import type { Principal } from '../http/principal.js'
import type { WebSettings } from './web-settings.js'
import {
  deleteWebSession,
  findWebSession,
  insertWebSession,
  purgeWebSessions,
  takePendingSignIn,
  touchWebSession,
} from './session.repository.js'

/** What the cookie's session stands for; the principal has no access point (that is per request). */
export interface WebSession {
  idHash: string
  principal: Omit<Principal, 'accessPoint'>
  csrfToken: string
  idToken: string | undefined
}

/** A sign-in under way: what the callback needs to finish it. */
export interface PendingSignIn {
  state: string
  nonce: string
  codeVerifier: string
}

const PENDING_TTL_MS = 10 * 60_000
/** last_seen_at is written at most this often: a page view is not a database write each time. */
const TOUCH_EVERY_MS = 60_000

export const newSecret = () => randomBytes(32).toString('base64url')
export const hashSessionId = (id: string) => createHash('sha256').update(id, 'utf8').digest('base64url')

/** Secure cookies, except on http://localhost (or 127.0.0.1) in development. */
export function cookieSecurity(web: WebSettings): { secure: boolean; sessionCookie: string; signInCookie: string } {
  const secure = new URL(web.baseUrl).protocol === 'https:'
  return secure
    ? { secure, sessionCookie: '__Host-overdracht-session', signInCookie: '__Host-overdracht-sign-in' }
    : { secure, sessionCookie: 'overdracht-session', signInCookie: 'overdracht-sign-in' }
}

const cookieOptions = (secure: boolean, maxAgeSeconds: number) =>
  ({ path: '/', httpOnly: true, secure, sameSite: 'Lax', maxAge: maxAgeSeconds }) as const

/** Session ids are 43 base64url characters; anything else is not looked up. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/

export async function startPendingSignIn(deps: Deps, web: WebSettings, c: Context, pending: PendingSignIn): Promise<void> {
  const now = deps.clock.now()
  await purgeWebSessions(deps.db, now, new Date(now.getTime() - web.sessionIdleMs))
  const id = newSecret()
  await insertWebSession(deps.db, {
    id_hash: hashSessionId(id),
    kind: 'pending',
    principal: null,
    csrf_token: null,
    login: JSON.stringify(pending),
    id_token: null,
    created_at: now,
    last_seen_at: now,
    expires_at: new Date(now.getTime() + PENDING_TTL_MS),
  })
  const { secure, signInCookie } = cookieSecurity(web)
  setCookie(c, signInCookie, id, cookieOptions(secure, PENDING_TTL_MS / 1000))
}

/** The pending sign-in of this browser, taken (it works once); undefined when absent or expired. */
export async function takePending(deps: Deps, web: WebSettings, c: Context): Promise<PendingSignIn | undefined> {
  const { secure, signInCookie } = cookieSecurity(web)
  const id = getCookie(c, signInCookie)
  deleteCookie(c, signInCookie, { path: '/', secure })
  if (!id || !SESSION_ID.test(id)) return undefined
  const row = await takePendingSignIn(deps.db, hashSessionId(id), deps.clock.now())
  return (row?.login as PendingSignIn | null) ?? undefined
}

/**
 * Starts a session with a new id (never one the browser brought along), ending the browser's
 * earlier session if it had one.
 */
export async function startSession(deps: Deps, web: WebSettings, c: Context, principal: Principal, idToken: string | undefined): Promise<void> {
  const now = deps.clock.now()
  const { secure, sessionCookie } = cookieSecurity(web)
  const previous = getCookie(c, sessionCookie)
  if (previous && SESSION_ID.test(previous)) await deleteWebSession(deps.db, hashSessionId(previous))
  await purgeWebSessions(deps.db, now, new Date(now.getTime() - web.sessionIdleMs))
  const { accessPoint: _accessPoint, ...stored } = principal
  const id = newSecret()
  await insertWebSession(deps.db, {
    id_hash: hashSessionId(id),
    kind: 'session',
    principal: JSON.stringify(stored),
    csrf_token: newSecret(),
    login: null,
    id_token: idToken ?? null,
    created_at: now,
    last_seen_at: now,
    expires_at: new Date(now.getTime() + web.sessionAbsoluteMs),
  })
  setCookie(c, sessionCookie, id, cookieOptions(secure, web.sessionAbsoluteMs / 1000))
}

/** The browser's live session: known, within its absolute end and not idle too long. */
export async function findSession(deps: Deps, web: WebSettings, c: Context): Promise<WebSession | undefined> {
  const { sessionCookie } = cookieSecurity(web)
  const id = getCookie(c, sessionCookie)
  if (!id || !SESSION_ID.test(id)) return undefined
  const now = deps.clock.now()
  const idHash = hashSessionId(id)
  const row = await findWebSession(deps.db, idHash, 'session', now)
  if (!row || !row.csrf_token) return undefined
  if (now.getTime() - row.last_seen_at.getTime() >= web.sessionIdleMs) {
    await deleteWebSession(deps.db, idHash)
    return undefined
  }
  if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_EVERY_MS) await touchWebSession(deps.db, idHash, now)
  return { idHash, principal: row.principal as WebSession['principal'], csrfToken: row.csrf_token, idToken: row.id_token ?? undefined }
}

export async function endSession(deps: Deps, web: WebSettings, c: Context, session: WebSession): Promise<void> {
  await deleteWebSession(deps.db, session.idHash)
  const { secure, sessionCookie } = cookieSecurity(web)
  deleteCookie(c, sessionCookie, { path: '/', secure })
}

/** The synchroniser token check: the form's token equals the session's, compared in constant time. */
export function csrfTokenMatches(session: WebSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length === 0) return false
  const a = Buffer.from(submitted, 'utf8')
  const b = Buffer.from(session.csrfToken, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}
