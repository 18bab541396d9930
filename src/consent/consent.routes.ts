import { Hono } from 'hono'
import type { Consent, Parameters } from '@medplum/fhirtypes'
import type { Deps } from '../deps.js'
import { badRequest } from '../fhir/outcome.js'
import type { AppEnv } from '../http/app-env.js'
import { etag, fhirJson, readResource, fhirBase, versionParam } from '../http/fhir-io.js'
import { historyBundle, pageOfList, parseSearch, searchsetPage, singleValue, type SearchSpec } from '../fhir/search.js'

export const CONSENT_SEARCH: SearchSpec = { params: ['patient'], defaultCount: 50, maxCount: 200 }
import { auditContext, refuseUnlessMayAttempt } from '../access/enforce.js'
import { consentFormCheck, findingsToParameters } from './form-check.service.js'
import { consentHistory, issueTokenForRecipient, readConsent, recordConsent, searchConsents, withdrawConsent } from './consent.service.js'

export function consentRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()

  // Before /Consent/:id, which would take the operation's name for an id.
  app.get('/Consent/$form-check', async (c) => {
    const raw = c.req.query('days')
    const days = raw === undefined ? 7 : Number(raw)
    if (!Number.isInteger(days) || days < 0 || days > 90) throw badRequest('days must be a whole number from 0 to 90', ['days'])
    const findings = await consentFormCheck(deps, auditContext(c.var.principal, c.var.requestId), days)
    return fhirJson(c, findingsToParameters(findings, days))
  })

  app.post('/Consent', async (c) => {
    const ctx = auditContext(c.var.principal, c.var.requestId)
    await refuseUnlessMayAttempt(deps, ctx, 'consent.record', { resourceType: 'Consent' })
    const consent = await readResource<Consent>(c, 'Consent', { validator: deps.validator })
    const recorded = await recordConsent(deps, ctx, consent)
    const headers: Record<string, string> = {
      Location: `${fhirBase(c, deps.settings.publicBaseUrl)}/Consent/${recorded.id}/_history/${recorded.version}`,
      ETag: etag(recorded.version),
    }
    if (recorded.token) {
      headers['X-Consent-Token'] = recorded.token.token
      headers['X-Consent-Token-Expires'] = recorded.token.expiresAt.toISOString()
    }
    return fhirJson(c, recorded.resource, 201, headers)
  })

  app.put('/Consent/:id', async (c) => {
    await refuseUnlessMayAttempt(deps, auditContext(c.var.principal, c.var.requestId), 'consent.withdraw', { resourceType: 'Consent', resourceId: c.req.param('id') })
    const consent = await readResource<Consent>(c, 'Consent', { validator: deps.validator })
    const result = await withdrawConsent(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'), consent, c.req.header('if-match'))
    return fhirJson(c, result.resource, 200, { ETag: etag(result.version) })
  })

  app.get('/Consent/:id', async (c) => {
    const result = await readConsent(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'))
    return fhirJson(c, result.resource, 200, { ETag: etag(result.version) })
  })

  app.get('/Consent/:id/_history', async (c) => {
    const versions = await consentHistory(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'))
    return fhirJson(c, historyBundle(fhirBase(c, deps.settings.publicBaseUrl), versions))
  })

  app.get('/Consent/:id/_history/:vid', async (c) => {
    const result = await readConsent(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'), versionParam(c.req.param('vid')))
    return fhirJson(c, result.resource, 200, { ETag: etag(result.version) })
  })

  app.get('/Consent', async (c) => {
    const req = parseSearch(new URL(c.req.url), c.req.header('prefer'), CONSENT_SEARCH)
    const patient = singleValue(req, 'patient')?.replace(/^Patient\//, '')
    if (!patient) throw badRequest('Search by patient=<id> is required', ['patient'])
    const found = await searchConsents(deps, auditContext(c.var.principal, c.var.requestId), patient)
    return fhirJson(c, searchsetPage(fhirBase(c, deps.settings.publicBaseUrl), 'Consent', req, pageOfList(found, req)))
  })

  app.post('/Consent/:id/$token', async (c) => {
    const params = await readResource<Parameters>(c, 'Parameters', { validator: deps.validator })
    const minted = await issueTokenForRecipient(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'), params)
    const out: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'token', valueString: minted.token },
        { name: 'expires', valueInstant: minted.expiresAt.toISOString() },
      ],
    }
    return fhirJson(c, out)
  })

  return app
}
