import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { checkFhirText, type ExpectedResource, type FhirTextCheck } from './validation.js'

/**
 * FHIR validation off the event loop. Validating a large bundle takes a second or more of CPU
 * (medplum's structural validation, FHIRPath invariants); on the event loop that would stall
 * every other request. Bodies from `inlineBelowBytes` up go to a pool of worker threads (piscina);
 * smaller ones are checked inline. The default, 4 KB, keeps a typical handover bundle (30 KB, about
 * 9 ms of validation) off the event loop; below it validation takes about a millisecond or less,
 * and a thread's round trip (copying the text, piscina's scheduling) a tenth of that.
 */
export interface FhirValidator {
  check(text: string, expected: ExpectedResource): Promise<FhirTextCheck>
  /** How many bodies were checked in worker threads so far. */
  checkedInWorkers(): number
  close(): Promise<void>
}

export interface ValidatorPoolOptions {
  /** Worker threads; 0 checks everything inline. */
  threads: number
  /** Bodies shorter than this (in characters) are checked inline. */
  inlineBelowBytes?: number
  /** Keep no thread running while idle (tests: many apps, few large bodies). */
  lazy?: boolean
  /** Bodies that may wait for a thread; more are answered 503. */
  maxQueue?: number
  /**
   * Characters of the bodies waiting for a thread, together; a body past it is answered 503. The
   * queue is bounded by what it holds in memory: many handover bundles of 30 KB may wait at a
   * peak, a few bodies of the maximum size.
   */
  maxQueuedBytes?: number
}

/** Thrown when the validation queue is full: the service is busy, try again shortly. */
export class ValidationBusyError extends Error {
  constructor() {
    super('the validation queue is full')
    this.name = 'ValidationBusyError'
  }
}

/** Bodies shorter than this are validated on the event loop (see above). */
export const DEFAULT_INLINE_BELOW_BYTES = 4 * 1024

export function createFhirValidator(options: ValidatorPoolOptions): FhirValidator {
  const inlineBelow = options.inlineBelowBytes ?? DEFAULT_INLINE_BELOW_BYTES
  if (options.threads <= 0) {
    return { check: async (text, expected) => checkFhirText(text, expected), checkedInWorkers: () => 0, close: async () => undefined }
  }
  const ext = extname(fileURLToPath(import.meta.url))
  const pool = new Piscina({
    filename: new URL('./validation-worker.mjs', import.meta.url).href,
    workerData: { validationWorker: fileURLToPath(new URL(`./validation.worker${ext}`, import.meta.url)) },
    minThreads: options.lazy ? 0 : options.threads,
    maxThreads: options.threads,
    idleTimeout: options.lazy ? 5_000 : 60_000,
    // Bodies wait in memory: a queue bounded by count and by size, past which the request is
    // turned away (503).
    maxQueue: options.maxQueue ?? options.threads * 256,
  })
  const maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024
  let queuedBytes = 0
  let inWorkers = 0
  return {
    async check(text, expected) {
      if (text.length < inlineBelow) return checkFhirText(text, expected)
      if (queuedBytes > 0 && queuedBytes + text.length > maxQueuedBytes) throw new ValidationBusyError()
      queuedBytes += text.length
      let result: FhirTextCheck
      try {
        result = (await pool.run({ text, expected })) as FhirTextCheck
      } catch (err) {
        if (err instanceof Error && /queue is at limit/i.test(err.message)) throw new ValidationBusyError()
        throw err
      } finally {
        queuedBytes -= text.length
      }
      inWorkers++
      return result
    },
    checkedInWorkers: () => inWorkers,
    close: () => pool.destroy(),
  }
}
