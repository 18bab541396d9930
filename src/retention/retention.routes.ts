import { Hono } from 'hono'
import type { Parameters } from '@medplum/fhirtypes'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/app-env.js'
import { fhirJson, readResource } from '../http/fhir-io.js'
import { erasePatient } from './retention.service.js'

export function retentionRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()
  app.post('/Patient/:id/$erase', async (c) => {
    const params = await readResource<Parameters>(c, 'Parameters', { validator: deps.validator })
    const reason = params.parameter?.find((p) => p.name === 'reason')?.valueString
    const { bundles } = await erasePatient(deps, auditContext(c.var.principal, c.var.requestId), c.req.param('id'), reason)
    return fhirJson(c, {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'informational', diagnostics: `Erased: the data key is destroyed and ${bundles} dossier version(s) can no longer be read; the audit log is kept` }],
    })
  })
  return app
}
