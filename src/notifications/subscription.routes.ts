import { Hono } from 'hono'
import type { Subscription } from '@medplum/fhirtypes'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/app-env.js'
import { etag, fhirBase, fhirJson, readResource } from '../http/fhir-io.js'
import { pageOfList, parseSearch, searchsetPage, type SearchSpec } from '../fhir/search.js'
import { createSubscription, deleteSubscription, readSubscription, searchSubscriptions } from './subscription.service.js'

/** The caller's own subscriptions, all of them: no parameters but the result ones. */
export const SUBSCRIPTION_SEARCH: SearchSpec = { params: [], defaultCount: 20, maxCount: 20 }

export function subscriptionRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()

  app.post('/Subscription', async (c) => {
    const resource = await readResource<Subscription>(c, 'Subscription', { validator: deps.validator })
    const created = await createSubscription(deps, auditContext(c.var.principal, c.var.requestId), resource)
    return fhirJson(c, created, 201, { Location: `${fhirBase(c, deps.settings.publicBaseUrl)}/Subscription/${created.id}`, ETag: etag(1) })
  })

  app.get('/Subscription/:id', async (c) => {
    const found = await readSubscription(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'))
    return fhirJson(c, found, 200, { ETag: etag(1) })
  })

  app.get('/Subscription', async (c) => {
    const req = parseSearch(new URL(c.req.url), c.req.header('prefer'), SUBSCRIPTION_SEARCH)
    const found = await searchSubscriptions(deps, auditContext(c.var.principal, c.var.requestId))
    return fhirJson(c, searchsetPage(fhirBase(c, deps.settings.publicBaseUrl), 'Subscription', req, pageOfList(found, req)))
  })

  app.delete('/Subscription/:id', async (c) => {
    await deleteSubscription(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'))
    return c.body(null, 204)
  })

  return app
}
