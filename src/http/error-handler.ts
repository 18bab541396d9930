import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { FHIR_JSON } from '../fhir/systems.js'
import { issue, operationOutcome, OutcomeError } from '../fhir/outcome.js'
import type { AppEnv } from './app-env.js'
import { isDatabaseUnavailable } from '../db/database.js'

function answer(c: Context<AppEnv>, error: OutcomeError): Response {
  const body = operationOutcome(error.outcome.issue, c.get('requestId'))
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  c.header('Content-Type', FHIR_JSON)
  c.header('Cache-Control', 'no-store')
  return c.body(JSON.stringify(body), error.status as 400)
}

/**
 * The one place failures become answers. Known errors carry their own status and outcome; any
 * other error is a 500 with a generic message: internals, stacks and request content stay here.
 */
export const outcomeErrorHandler: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof OutcomeError) return answer(c, err)
  if (err instanceof HTTPException && err.status < 500) {
    return answer(c, new OutcomeError(err.status, [issue('processing', 'The request could not be processed')]))
  }
  if (isDatabaseUnavailable(err)) {
    c.get('logger')?.warn({ requestId: c.get('requestId'), errorType: err?.constructor?.name }, 'database unavailable')
    return answer(c, new OutcomeError(503, [issue('transient', 'The service cannot reach its database; try again shortly')], { 'Retry-After': '5' }))
  }
  const logger = c.get('logger')
  // Only the error class and a stack of code locations: no message, which may carry data.
  logger?.error({ requestId: c.get('requestId'), errorType: err?.constructor?.name, stack: redactedStack(err) }, 'unhandled error')
  return answer(
    c,
    new OutcomeError(500, [issue('exception', `Internal error; quote request id ${c.get('requestId') ?? 'unknown'}`)]),
  )
}

function redactedStack(err: unknown): string[] | undefined {
  if (!(err instanceof Error) || !err.stack) return undefined
  return err.stack
    .split('\n')
    .slice(1, 8)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('at '))
}

export const outcomeNotFound: NotFoundHandler<AppEnv> = (c) =>
  answer(c, new OutcomeError(404, [issue('not-found', 'No such endpoint')]))
