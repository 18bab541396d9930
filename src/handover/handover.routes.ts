import { Hono } from 'hono'
import { badRequest } from '../fhir/outcome.js'
import type { Bundle } from '@medplum/fhirtypes'
import type { Deps } from '../deps.js'
import { auditContext } from '../access/enforce.js'
import { notFound, unprocessable } from '../fhir/outcome.js'
import type { AppEnv } from '../http/app-env.js'
import { decodeUtf8Header, etag, fhirJson, rawFhirJson, readResource, fhirBase, readOperationInput } from '../http/fhir-io.js'
import { checkHandoverBundle } from './intake.js'
import { authoriseUploadAttempt, readDossier, uploadBundle, type StoredBundle } from './handover.service.js'
import { searchPatients } from '../patient/patient.service.js'
import { historyBundle, orValues, pageOfList, parseSearch, searchsetPage, type SearchSpec } from '../fhir/search.js'

export const PATIENT_SEARCH: SearchSpec = { params: ['identifier'], defaultCount: 50, maxCount: 50 }

// A Bundle is never updated (a new upload is a new Bundle): its FHIR version is always 1.
const versionHeaders = (stored: StoredBundle) => ({
  ETag: etag(1),
  'Last-Modified': stored.lastUpdated.toUTCString(),
})

const readOptions = (c: { req: { header(name: string): string | undefined } }) => {
  const reason = c.req.header('x-emergency-reason')
  return { consentToken: c.req.header('x-consent-token'), emergencyReason: reason === undefined ? undefined : decodeUtf8Header(reason, 'X-Emergency-Reason') }
}

export function handoverRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()

  app.post('/Bundle', async (c) => {
    const ctx = auditContext(c.var.principal, c.var.requestId)
    await authoriseUploadAttempt(deps, ctx)
    const bundle = await readResource<Bundle>(c, 'Bundle', { validator: deps.validator, maxEntries: deps.settings.maxBundleEntries })
    const subject = checkHandoverBundle(bundle)
    if ('issues' in subject) throw unprocessable(subject.issues)
    const ownCopy = c.req.query('own-copy')
    if (ownCopy !== undefined && ownCopy !== 'true' && ownCopy !== 'false') throw badRequest('own-copy must be true or false', ['own-copy'])
    const stored = await uploadBundle(deps, ctx, bundle, subject, { ownCopy: ownCopy === 'true' })
    const headers = { ...versionHeaders(stored), Location: `${fhirBase(c, deps.settings.publicBaseUrl)}/Bundle/${stored.id}/_history/1` }
    if (c.req.header('prefer')?.includes('return=minimal')) {
      for (const [k, v] of Object.entries(headers)) c.header(k, v)
      return c.body(null, 201)
    }
    return rawFhirJson(c, stored.text, 201, headers)
  })

  app.get('/Bundle/:id', async (c) => {
    const stored = await readDossier(deps, auditContext(c.var.principal, c.var.requestId), { bundleId: c.req.param('id') }, readOptions(c))
    return rawFhirJson(c, stored.text, 200, versionHeaders(stored))
  })

  // Each uploaded Bundle is one version of its own: its history has that one entry.
  app.get('/Bundle/:id/_history', async (c) => {
    const stored = await readDossier(deps, auditContext(c.var.principal, c.var.requestId), { bundleId: c.req.param('id') }, readOptions(c))
    const resource = JSON.parse(stored.text) as Bundle
    return fhirJson(c, historyBundle(fhirBase(c, deps.settings.publicBaseUrl), [{ resource, recordedAt: resource.meta?.lastUpdated ? new Date(resource.meta.lastUpdated) : deps.clock.now() }]))
  })

  app.get('/Bundle/:id/_history/:vid', async (c) => {
    const stored = await readDossier(deps, auditContext(c.var.principal, c.var.requestId), { bundleId: c.req.param('id') }, readOptions(c))
    if (c.req.param('vid') !== '1') throw notFound()
    return rawFhirJson(c, stored.text, 200, versionHeaders(stored))
  })

  app.get('/Patient/:id/$handover', async (c) => {
    const stored = await readDossier(deps, auditContext(c.var.principal, c.var.requestId), { patientId: c.req.param('id') }, readOptions(c))
    return rawFhirJson(c, stored.text, 200, { ...versionHeaders(stored), 'Content-Location': `${fhirBase(c, deps.settings.publicBaseUrl)}/Bundle/${stored.id}` })
  })

  // The same read as an operation called by POST (FHIR clients' default): the consent token may come
  // as the Parameters input `consent-token` instead of the header; break-the-glass stays a header.
  app.post('/Patient/:id/$handover', async (c) => {
    const input = await readOperationInput(c, deps.validator, ['consent-token'])
    const options = readOptions(c)
    const fromBody = input.get('consent-token')?.valueString
    if (input.has('consent-token') && typeof fromBody !== 'string') throw badRequest('consent-token must be a valueString', ["Parameters.parameter.where(name='consent-token')"])
    if (fromBody !== undefined && options.consentToken !== undefined && fromBody !== options.consentToken) {
      throw badRequest('The consent token came twice, differently: as X-Consent-Token and as the consent-token parameter')
    }
    const stored = await readDossier(deps, auditContext(c.var.principal, c.var.requestId), { patientId: c.req.param('id') }, {
      ...options,
      consentToken: (fromBody as string | undefined) ?? options.consentToken,
    })
    return rawFhirJson(c, stored.text, 200, { ...versionHeaders(stored), 'Content-Location': `${fhirBase(c, deps.settings.publicBaseUrl)}/Bundle/${stored.id}` })
  })

  app.get('/Patient', async (c) => {
    const req = parseSearch(new URL(c.req.url), c.req.header('prefer'), PATIENT_SEARCH)
    const identifiers = (req.values.get('identifier') ?? []).flatMap(orValues)
    if ((req.values.get('identifier') ?? []).length > 1) throw badRequest('identifier is given more than once; separate alternatives with a comma', ['identifier'])
    const found = await searchPatients(deps, auditContext(c.var.principal, c.var.requestId), identifiers)
    return fhirJson(c, searchsetPage(fhirBase(c, deps.settings.publicBaseUrl), 'Patient', req, pageOfList(found, req)))
  })

  return app
}

