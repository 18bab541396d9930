import { Hono } from 'hono'
import type { Task } from '@medplum/fhirtypes'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import { badRequest } from '../fhir/outcome.js'
import type { AppEnv } from '../http/app-env.js'
import { etag, fhirJson, readResource, fhirBase } from '../http/fhir-io.js'
import { changeTask, createTask, readTask, searchTaskList } from './task.service.js'

export function taskRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()

  app.post('/Task', async (c) => {
    const task = await readResource<Task>(c, 'Task', { validator: deps.validator })
    const created = await createTask(deps, auditContext(c.var.principal, c.var.requestId), task)
    return fhirJson(c, created, 201, { Location: `${fhirBase(c, deps.settings.publicBaseUrl)}/Task/${created.id}/_history/1`, ETag: etag(1) })
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

  app.get('/Task', async (c) => {
    const atRisk = c.req.query('at-risk')
    if (atRisk !== undefined && atRisk !== 'true' && atRisk !== 'false') throw badRequest('at-risk must be true or false', ['at-risk'])
    const q = {
      ...(c.req.query('owner') ? { owner: c.req.query('owner')! } : {}),
      ...(c.req.query('requester') ? { requester: c.req.query('requester')! } : {}),
      ...(c.req.query('status') ? { status: c.req.query('status')! } : {}),
      ...(c.req.query('code') ? { code: c.req.query('code')! } : {}),
      atRisk: atRisk === 'true',
    }
    return fhirJson(c, await searchTaskList(deps, auditContext(c.var.principal, c.var.requestId), q))
  })

  return app
}
