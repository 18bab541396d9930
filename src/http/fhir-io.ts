import type { Context } from 'hono'
import type { Parameters, Resource } from '@medplum/fhirtypes'
import { badRequest, notFound, OutcomeError, payloadTooLarge, serviceUnavailable, unsupportedMediaType } from '../fhir/outcome.js'
import { FHIR_JSON } from '../fhir/systems.js'
import { ValidationBusyError, type FhirValidator } from '../fhir/validation-pool.js'
import type { AppEnv } from './app-env.js'

const ACCEPTED_TYPES = [FHIR_JSON, 'application/json']

/** Largest Task or Parameters body: codes, identifiers and dates only. */
export const SMALL_RESOURCE_BYTES = 64 * 1024

/**
 * Reads a FHIR JSON request body: the content type must be FHIR JSON (UTF-8), the text must be
 * JSON, the resource must be of the expected type and valid R4. Each failure has its own status:
 * 415, 400 and 422.
 */
export async function readResource<T extends Resource>(
  c: Context<AppEnv>,
  resourceType: T['resourceType'],
  options: { validator: FhirValidator; maxEntries?: number; maxBytes?: number },
): Promise<T> {
  const contentType = c.req.header('content-type')
  if (!contentType) throw unsupportedMediaType(`Content-Type is required; send ${FHIR_JSON}`)
  const [mediaType, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase())
  if (!mediaType || !ACCEPTED_TYPES.includes(mediaType)) throw unsupportedMediaType(`Content-Type must be ${FHIR_JSON}`)
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '')
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw unsupportedMediaType('Only UTF-8 is accepted')

  // A resource that is small by nature is refused when it is not, before it is read or validated.
  const limit = options.maxBytes ?? (resourceType === 'Bundle' || resourceType === 'Consent' ? undefined : SMALL_RESOURCE_BYTES)
  const declared = Number(c.req.header('content-length'))
  if (limit !== undefined && Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit)
  const text = await c.req.text()
  if (limit !== undefined && Buffer.byteLength(text) > limit) throw payloadTooLarge(limit)
  if (text.trim() === '') throw badRequest('The request body is empty')
  // Syntax, type, entry cap and R4 validation, off the event loop for large bodies.
  let checked
  try {
    checked = await options.validator.check(text, { resourceType, ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}) })
  } catch (err) {
    if (err instanceof ValidationBusyError) throw serviceUnavailable('The service is validating too many large bodies at once; try again shortly')
    throw err
  }
  if (!checked.ok) throw new OutcomeError(checked.status, checked.issues)
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as T
}

export function fhirJson(c: Context<AppEnv>, body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return rawFhirJson(c, JSON.stringify(body), status, headers)
}

export function rawFhirJson(c: Context<AppEnv>, text: string, status = 200, headers: Record<string, string> = {}): Response {
  for (const [name, value] of Object.entries(headers)) c.header(name, value)
  c.header('Content-Type', `${FHIR_JSON}; charset=utf-8`)
  c.header('Cache-Control', 'no-store')
  return c.body(text, status as 200)
}

export const etag = (version: number | string) => `W/"${version}"`

/** A version id from a `_history/{vid}` path: a positive whole number, or no such version (404). */
export function versionParam(vid: string): number {
  if (!/^[1-9]\d{0,8}$/.test(vid)) throw notFound(`There is no version "${vid}"`)
  return Number(vid)
}

/**
 * The FHIR base URL as clients should use it: the configured public base URL, or the origin the
 * request came to, followed by /fhir. Every Location, fullUrl and link is absolute on it.
 */
export function fhirBase(c: Context<AppEnv>, publicBaseUrl: string | undefined): string {
  return `${publicBaseUrl ?? new URL(c.req.url).origin}/fhir`
}

/**
 * A header value as the client wrote it in UTF-8. Node hands header bytes over as latin1
 * characters; a value that is not valid UTF-8 is refused (400) rather than stored garbled.
 */
export function decodeUtf8Header(value: string, name: string): string {
  if (/^[\x00-\x7f]*$/.test(value)) return value
  if (/[^\x00-\xff]/.test(value)) return value
  const bytes = Buffer.from(value, 'latin1')
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw badRequest(`${name} must be UTF-8 text`, [name])
  }
}

/**
 * The input of an operation called by POST: an optional FHIR Parameters body (an empty body is no
 * input), with only the parameters the operation names. A parameter given twice is refused.
 */
export async function readOperationInput(
  c: Context<AppEnv>,
  validator: FhirValidator,
  allowed: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>()
  const declared = Number(c.req.header('content-length') ?? '0')
  if (c.req.header('content-type') === undefined && (!Number.isFinite(declared) || declared === 0)) return out
  // Clients send an operation without input as an empty body, some with a Content-Type all the same.
  if (Number.isFinite(declared) && declared > SMALL_RESOURCE_BYTES) throw payloadTooLarge(SMALL_RESOURCE_BYTES)
  if ((await c.req.text()).trim() === '') return out
  const params = await readResource<Parameters>(c, 'Parameters', { validator })
  for (const [i, p] of (params.parameter ?? []).entries()) {
    if (!allowed.includes(p.name)) throw badRequest(`Unknown parameter "${p.name}"; this operation takes ${allowed.join(', ') || 'none'}`, [`Parameters.parameter[${i}]`])
    if (out.has(p.name)) throw badRequest(`Parameter "${p.name}" is given more than once`, [`Parameters.parameter[${i}]`])
    out.set(p.name, p as unknown as Record<string, unknown>)
  }
  return out
}
