import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes'

export type IssueCode = OperationOutcomeIssue['code']

/**
 * The one error type of the service: an explicit HTTP status and the OperationOutcome to answer
 * with. Messages are written for the caller and never carry request content.
 */
export class OutcomeError extends Error {
  readonly status: number
  readonly outcome: OperationOutcome
  readonly headers: Record<string, string>

  constructor(status: number, issues: OperationOutcomeIssue[], headers: Record<string, string> = {}) {
    super(issues[0]?.diagnostics ?? `HTTP ${status}`)
    this.name = 'OutcomeError'
    this.status = status
    this.outcome = { resourceType: 'OperationOutcome', issue: issues }
    this.headers = headers
  }
}

export function issue(code: IssueCode, diagnostics: string, expression?: string[]): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, ...(expression ? { expression } : {}) }
}

export const badRequest = (diagnostics: string, expression?: string[]) =>
  new OutcomeError(400, [issue('invalid', diagnostics, expression)])

/** 401 with a Bearer challenge; no error code when no credentials were sent (RFC 6750 section 3.1). */
/**
 * 401 with an RFC 6750 challenge: `error="invalid_token"` for a token that is not accepted,
 * `invalid_request` for a malformed header, and no error code at all when no credential came
 * (null), as section 3.1 asks.
 */
export const unauthorized = (diagnostics: string, error: 'invalid_token' | 'invalid_request' | null = 'invalid_token') =>
  new OutcomeError(401, [issue('login', diagnostics)], {
    'WWW-Authenticate': error ? `Bearer realm="overdracht", error="${error}"` : 'Bearer realm="overdracht"',
  })

export const forbidden = (diagnostics: string) => new OutcomeError(403, [issue('forbidden', diagnostics)])

/** Also the answer where the caller may not learn whether the resource exists. */
export const notFound = (diagnostics = 'Resource not found') => new OutcomeError(404, [issue('not-found', diagnostics)])

export const conflict = (diagnostics: string) => new OutcomeError(409, [issue('conflict', diagnostics)])

export const payloadTooLarge = (limitBytes: number) =>
  new OutcomeError(413, [issue('too-costly', `Request body is larger than the limit of ${limitBytes} bytes`)])

export const unsupportedMediaType = (diagnostics: string) => new OutcomeError(415, [issue('not-supported', diagnostics)])

export const unprocessable = (issues: OperationOutcomeIssue[]) => new OutcomeError(422, issues)

export const serviceUnavailable = (diagnostics: string) =>
  new OutcomeError(503, [issue('transient', diagnostics)], { 'Retry-After': '30' })

export function operationOutcome(issues: OperationOutcomeIssue[], requestId?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    ...(requestId ? { id: requestId } : {}),
    issue: issues,
  }
}

export const informational = (diagnostics: string): OperationOutcomeIssue => ({
  severity: 'information',
  code: 'informational',
  diagnostics,
})
