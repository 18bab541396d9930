import { Hono } from 'hono'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/app-env.js'
import { fhirJson } from '../http/fhir-io.js'
import { readPerspective } from './perspective.service.js'

export function perspectiveRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()
  app.get('/Patient/$handelingsperspectief', async (c) =>
    fhirJson(c, await readPerspective(deps, auditContext(c.var.principal, c.var.requestId), { identifier: c.req.query('identifier') })),
  )
  app.get('/Patient/:id/$handelingsperspectief', async (c) =>
    fhirJson(c, await readPerspective(deps, auditContext(c.var.principal, c.var.requestId), { patientId: c.req.param('id') })),
  )
  return app
}
