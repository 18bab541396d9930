import { Hono } from 'hono'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/app-env.js'
import { fhirJson } from '../http/fhir-io.js'
import { readPatient } from './patient.service.js'

/**
 * `GET /fhir/Patient/{id}`. Mounted after every other route under /fhir/Patient, so that a
 * type-level operation (`Patient/$handelingsperspectief`) is never taken for an id.
 */
export function patientReadRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()
  app.get('/Patient/:id', async (c) => fhirJson(c, await readPatient(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'))))
  return app
}
