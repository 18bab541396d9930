import { Hono } from 'hono'
import type { Task } from '@medplum/fhirtypes'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import { badRequest } from '../fhir/outcome.js'
import type { AppEnv } from '../http/app-env.js'
import { etag, fhirJson, readResource, fhirBase, versionParam } from '../http/fhir-io.js'
import { historyBundle, orValues, parseSearch, searchsetPage, singleValue, type SearchSpec } from '../fhir/search.js'
import { changeTask, createTask, putTaskByIdentifier, readTask, searchTaskList, taskHistory } from './task.service.js'

export const TASK_SEARCH: SearchSpec = { params: ['owner', 'requester', 'status', 'code', 'identifier', 'at-risk'], defaultCount: 50, maxCount: 500 }

export function taskRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()

  app.post('/Task', async (c) => {
    const task = await readResource<Task>(c, 'Task', { validator: deps.validator })
    const created = await createTask(deps, auditContext(c.var.principal, c.var.requestId), task)
    return fhirJson(c, created, 201, { Location: `${fhirBase(c, deps.settings.publicBaseUrl)}/Task/${created.id}/_history/1`, ETag: etag(1) })
  })

  // Conditional update by business identifier (notified pull): create when none of yours has it.
  app.put('/Task', async (c) => {
    const identifiers = c.req.queries('identifier') ?? []
    const unknown = [...new URL(c.req.url).searchParams.keys()].filter((k) => k !== 'identifier')
    if (identifiers.length !== 1 || unknown.length > 0) throw badRequest('A conditional update takes exactly one identifier=system|value', ['identifier'])
    const task = await readResource<Task>(c, 'Task', { validator: deps.validator })
    const result = await putTaskByIdentifier(deps, auditContext(c.var.principal, c.var.requestId), identifiers[0]!, task, c.req.header('if-match'))
    const base = fhirBase(c, deps.settings.publicBaseUrl)
    const location = `${base}/Task/${result.resource.id}/_history/${result.version}`
    return fhirJson(c, result.resource, result.created ? 201 : 200, { ETag: etag(result.version), ...(result.created ? { Location: location } : { 'Content-Location': location }) })
  })

  app.put('/Task/:id', async (c) => {
    const task = await readResource<Task>(c, 'Task', { validator: deps.validator })
    const result = await changeTask(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'), task, c.req.header('if-match'))
    return fhirJson(c, result.resource, 200, { ETag: etag(result.version) })
  })

  app.get('/Task/:id', async (c) => {
    const result = await readTask(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'))
    return fhirJson(c, result.resource, 200, { ETag: etag(result.version) })
  })

  app.get('/Task/:id/_history', async (c) => {
    const versions = await taskHistory(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'))
    return fhirJson(c, historyBundle(fhirBase(c, deps.settings.publicBaseUrl), versions))
  })

  app.get('/Task/:id/_history/:vid', async (c) => {
    const result = await readTask(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'), versionParam(c.req.param('vid')))
    return fhirJson(c, result.resource, 200, { ETag: etag(result.version) })
  })

  app.get('/Task', async (c) => {
    const req = parseSearch(new URL(c.req.url), c.req.header('prefer'), TASK_SEARCH)
    const atRisk = singleValue(req, 'at-risk')
    if (atRisk !== undefined && atRisk !== 'true' && atRisk !== 'false') throw badRequest('at-risk must be true or false', ['at-risk'])
    const owner = singleValue(req, 'owner')
    const requester = singleValue(req, 'requester')
    const list = (name: string) => (req.values.get(name) ?? []).flatMap(orValues)
    const codes = list('code').map((code) => (code.includes('|') ? code.slice(code.indexOf('|') + 1) : code))
    const page = await searchTaskList(deps, auditContext(c.var.principal, c.var.requestId), {
      ...(owner ? { owner } : {}),
      ...(requester ? { requester } : {}),
      statuses: list('status'),
      codes,
      identifiers: list('identifier'),
      atRisk: atRisk === 'true',
      count: req.count,
      summaryCount: req.summaryCount,
      page: req.page,
    })
    return fhirJson(c, searchsetPage(fhirBase(c, deps.settings.publicBaseUrl), 'Task', req, page))
  })

  return app
}
