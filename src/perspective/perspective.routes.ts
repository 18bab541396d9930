import { Hono } from 'hono'
import { auditContext } from '../access/enforce.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/app-env.js'
import { badRequest } from '../fhir/outcome.js'
import { fhirJson, readOperationInput } from '../http/fhir-io.js'
import { readPerspective } from './perspective.service.js'

export function perspectiveRoutes(deps: Deps) {
  const app = new Hono<AppEnv>()
  app.get('/Patient/$handelingsperspectief', async (c) =>
    fhirJson(c, await readPerspective(deps, auditContext(c.var.principal, c.var.requestId), { identifier: c.req.query('identifier') })),
  )
  app.get('/Patient/:id/$handelingsperspectief', async (c) =>
    fhirJson(c, await readPerspective(deps, auditContext(c.var.principal, c.var.requestId), { patientId: c.req.param('id') })),
  )
  // The same operation by POST: the type-level form takes `identifier` (valueIdentifier, or a
  // valueString "system|value" as in the search), the instance form no input.
  app.post('/Patient/$handelingsperspectief', async (c) => {
    const input = await readOperationInput(c, deps.validator, ['identifier'])
    const p = input.get('identifier')
    const id = p?.valueIdentifier as { system?: string; value?: string } | undefined
    const identifier = id ? `${id.system ?? ''}|${id.value ?? ''}` : typeof p?.valueString === 'string' ? p.valueString : undefined
    if (identifier === undefined) throw badRequest('identifier is required (valueIdentifier, or valueString system|value)', ["Parameters.parameter.where(name='identifier')"])
    return fhirJson(c, await readPerspective(deps, auditContext(c.var.principal, c.var.requestId), { identifier }))
  })
  app.post('/Patient/:id/$handelingsperspectief', async (c) => {
    await readOperationInput(c, deps.validator, [])
    return fhirJson(c, await readPerspective(deps, auditContext(c.var.principal, c.var.requestId), { patientId: c.req.param('id') }))
  })
  return app
}
