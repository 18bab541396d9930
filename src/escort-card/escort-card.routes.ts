import { createHash } from 'node:crypto'
import { Hono } from 'hono'
import type { Parameters } from '@medplum/fhirtypes'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import { badRequest } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'
import type { AppEnv } from '../http/app-env.js'
import { fhirJson } from '../http/fhir-io.js'
import { CARD_PAGE_CSP, renderEscortCardHtml } from './card-page.js'
import { escortCardStatus, issueEscortCard } from './escort-card.service.js'
import { VERIFIER_CSP, verifierHtml, verifierScript, verifierServiceWorker } from './verifier-page.js'

const origin = (c: { req: { url: string } }, publicBaseUrl: string | undefined) => (publicBaseUrl ?? new URL(c.req.url).origin).replace(/\/$/, '')

/** `GET /fhir/Task/{id}/$escort-card`: behind the caller's token, like the rest of /fhir. */
export function escortCardRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()
  app.get('/Task/:id/$escort-card', async (c) => {
    const format = c.req.query('_format')
    const html = format === 'html' || format === 'text/html' || (format === undefined && (c.req.header('accept') ?? '').includes('text/html'))
    const card = await issueEscortCard(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'))
    const base = origin(c, deps.settings.publicBaseUrl)
    const statusUrl = `${base}/escort-card/status/${card.jti}`
    if (html) {
      c.header('Content-Security-Policy', CARD_PAGE_CSP)
      c.header('X-Frame-Options', 'DENY')
      return c.html(await renderEscortCardHtml(card, statusUrl, `${base}/escort-card/verify`))
    }
    const parameters: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'token', valueString: card.token },
        { name: 'expires', valueInstant: card.expiresAt.toISOString() },
        { name: 'plannedDeparture', valueDateTime: card.plannedDeparture.toISOString() },
        { name: 'status', valueUri: statusUrl },
        ...card.words.map((w) => ({ name: 'code', valueCoding: { system: SYSTEM.handelingsperspectief, code: w.code, display: w.en } })),
      ],
    }
    return fhirJson(c, parameters)
  })
  return app
}

/** The public side: the online status of a card and the offline verifier. No token, nothing about a person. */
export function escortCardPublicRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()
  app.get('/escort-card/status/:jti', async (c) => {
    c.header('Cache-Control', 'no-store')
    const jti = c.req.param('jti')
    if (jti.length > 64) throw badRequest('Not a card id')
    return c.json(await escortCardStatus(deps, jti))
  })
  app.get('/escort-card/verify', (c) => {
    c.header('Content-Security-Policy', VERIFIER_CSP)
    c.header('X-Frame-Options', 'DENY')
    c.header('Cache-Control', 'public, max-age=3600')
    return c.html(verifierHtml())
  })
  const script = verifierScript(deps.settings.consentTokenIssuer)
  app.get('/escort-card/verify.js', (c) => {
    c.header('Cache-Control', 'public, max-age=3600')
    return c.body(script, 200, { 'Content-Type': 'text/javascript; charset=utf-8' })
  })
  const worker = verifierServiceWorker(createHash('sha256').update(script).digest('hex').slice(0, 12))
  app.get('/escort-card/sw.js', (c) => {
    c.header('Cache-Control', 'no-cache')
    c.header('Service-Worker-Allowed', '/escort-card/')
    return c.body(worker, 200, { 'Content-Type': 'text/javascript; charset=utf-8' })
  })
  return app
}
