import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import { formatDateTime as formatAccessLogDateTime } from '../audit/access-log-page.js'
import type { AppEnv } from '../http/app-env.js'
import { en } from './messages.en.js'
import { nl, type Messages } from './messages.nl.js'
import type { WebSession } from './session.js'

export type Lang = 'nl' | 'en'

export type WebEnv = {
  Variables: AppEnv['Variables'] & {
    lang: Lang
    t: Messages
    session: WebSession | undefined
  }
}

export const messagesFor = (lang: Lang): Messages => (lang === 'en' ? en : nl)

/**
 * Strict: nothing inline, nothing from elsewhere; forms post to this service only (the sign-out
 * redirect to the identity provider follows a POST, so its origin is allowed for form-action).
 */
export function pageCsp(formActionOrigin?: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    `form-action 'self'${formActionOrigin ? ` ${formActionOrigin}` : ''}`,
    "frame-ancestors 'none'",
  ].join('; ')
}
export const PAGE_CSP = pageCsp()

/** Renders a page with the doctype; the headers (CSP, no-store) are the web middleware's. */
export async function renderPage(c: Context, node: Child, status: 200 | 400 | 403 | 404 | 409 | 422 | 429 | 500 | 503 = 200): Promise<Response> {
  const html = `<!doctype html>${await Promise.resolve(String(await (node as { toString(): string | Promise<string> }).toString()))}`
  return c.html(html, status)
}

const TIME_ZONE = 'Europe/Amsterdam'

/** The calendar day (YYYY-MM-DD) in Europe/Amsterdam of an instant, `days` later. */
export function dayInAmsterdam(at: Date, days = 0): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at.getTime() + days * 86_400_000))
}

/** The last second of a calendar day in Europe/Amsterdam, as a FHIR instant with its offset. */
export function endOfDay(day: string): string | undefined {
  const noon = new Date(`${day}T12:00:00Z`)
  if (Number.isNaN(noon.getTime()) || noon.toISOString().slice(0, 10) !== day) return undefined
  const offset = new Intl.DateTimeFormat('en-GB', { timeZone: TIME_ZONE, timeZoneName: 'longOffset' })
    .formatToParts(noon)
    .find((p) => p.type === 'timeZoneName')
    ?.value.replace('GMT', '')
  return `${day}T23:59:59${offset || '+00:00'}`
}

/** "24 november 2026" / "24 November 2026", Europe/Amsterdam; a date-only value stays that day. */
export function formatDate(value: string | undefined, lang: Lang): string | undefined {
  if (!value) return undefined
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value)
  const at = new Date(dateOnly ? `${value}T12:00:00Z` : value)
  if (Number.isNaN(at.getTime())) return undefined
  return new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { timeZone: TIME_ZONE, day: 'numeric', month: 'long', year: 'numeric' }).format(at)
}

/** "24 november 2026, 10:15", Europe/Amsterdam: the access log's own wording. */
export function formatDateTime(value: string | Date | undefined, lang: Lang): string | undefined {
  if (!value) return undefined
  const at = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(at.getTime())) return undefined
  return formatAccessLogDateTime(at, lang)
}
