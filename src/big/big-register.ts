/**
 * The port to the BIG register: the SOAP web service (`soap-register.ts`) or a local file
 * (`file-register.ts`). Callers normally use `createBigVerifier` (`cached-register.ts`).
 */
import type { BigPerson, BigVerification } from './big.types.js'

export interface BigRegister {
  /** Which adapter answers; copied into each verification. */
  readonly source: BigVerification['source']
  /**
   * Everyone the register returns for an 11-digit BIG number (normally one person, or none).
   * Throws `BigRegisterUnavailableError` when the register cannot answer, and a `RangeError` for
   * a number that is not 11 digits.
   */
  lookup(bigNumber: string): Promise<BigPerson[]>
}

export type BigRegisterUnavailableReason =
  | 'network'
  | 'timeout'
  | 'http-status'
  | 'soap-fault'
  | 'unparsable'
  | 'too-large'

/**
 * The register could not answer. Callers fail closed (HTTP 503). The message never contains the
 * BIG number or anything the register sent back, so it is safe to log.
 */
export class BigRegisterUnavailableError extends Error {
  override readonly name = 'BigRegisterUnavailableError'
  readonly reason: BigRegisterUnavailableReason
  /** HTTP status of the register's answer, when there was one. */
  readonly httpStatus: number | undefined

  constructor(reason: BigRegisterUnavailableReason, options: { httpStatus?: number; cause?: unknown } = {}) {
    const status = options.httpStatus !== undefined ? ` (HTTP ${options.httpStatus})` : ''
    super(`BIG register unavailable: ${reason}${status}`, options.cause !== undefined ? { cause: options.cause } : undefined)
    this.reason = reason
    this.httpStatus = options.httpStatus
  }
}

export function assertBigNumber(bigNumber: string): void {
  if (!/^\d{11}$/.test(bigNumber)) throw new RangeError('BIG register lookup needs an 11-digit BIG number')
}
