/**
 * The BIG check the rest of the service calls: register lookup, short cache, status derivation.
 *
 * - The register's answer is cached per BIG number: 10 minutes when it read `registered`,
 *   1 minute for anything else (so a new registration or a lifted measure shows up quickly).
 * - Each answer, cached or not, is derived again against `clock.now()`, so an end date or a
 *   measure's end that passes inside the cache window counts at once.
 * - Concurrent checks of one number share one register request.
 * - Fail closed: when the register cannot answer and nothing unexpired is cached, `verify`
 *   throws `BigRegisterUnavailableError` (the caller answers 503). Expired entries are never
 *   used as a fallback.
 * - Back-off: after the register failed, lookups within a back-off window (1 s, doubling with
 *   each further failure up to 30 s) fail fast with `BigRegisterUnavailableError` without asking
 *   it, so an outage costs one register request per window, not one per caller request. The
 *   window is for the register as a whole (an outage is not per number); cached answers are
 *   still given. The first success ends it.
 */
import type { Clock } from '../clock.js'
import { BigRegisterUnavailableError, type BigRegister } from './big-register.js'
import type { BigPerson, BigVerification } from './big.types.js'
import { DEFAULT_ALLOWED_PROFESSIONS, deriveBigStatus, normalizeBigNumber } from './big-status.js'

export interface BigVerifierOptions {
  register: BigRegister
  clock: Clock
  allowedProfessions?: ReadonlySet<string>
  ttlRegisteredMs?: number
  ttlOtherMs?: number
  /** Bound on cached numbers; expired, then oldest entries go first. */
  maxEntries?: number
  /** The back-off after the first failure; it doubles with each further failure. */
  backoffInitialMs?: number
  backoffMaxMs?: number
  /** Told of each verification's source and each register request (for metrics); never of the number. */
  observer?: BigVerifierObserver
}

export interface BigVerifierObserver {
  lookup(result: 'hit' | 'miss' | 'backoff'): void
  registerCall(outcome: 'answered' | 'failed', seconds: number): void
}

export interface BigVerifier {
  /**
   * The status of a BIG number now. An invalid number (not 1–11 digits) is `unknown` without
   * asking the register. Throws `BigRegisterUnavailableError` when the register cannot answer.
   */
  verify(bigNumber: string): Promise<BigVerification>
}

interface Entry {
  persons: BigPerson[]
  fetchedAt: Date
  expiresAt: number
}

export function createBigVerifier({
  register,
  clock,
  allowedProfessions = DEFAULT_ALLOWED_PROFESSIONS,
  ttlRegisteredMs = 10 * 60_000,
  ttlOtherMs = 60_000,
  maxEntries = 10_000,
  backoffInitialMs = 1_000,
  backoffMaxMs = 30_000,
  observer,
}: BigVerifierOptions): BigVerifier {
  for (const [name, v] of Object.entries({ ttlRegisteredMs, ttlOtherMs, maxEntries, backoffInitialMs, backoffMaxMs })) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`createBigVerifier: ${name} must be a non-negative number`)
  }
  const cache = new Map<string, Entry>()
  const inFlight = new Map<string, Promise<Entry>>()

  // The back-off state. `generation` changes with every failure counted and every success, so
  // that lookups which were already under way when a failure was counted (other numbers, the
  // same outage) do not double the window again when they fail too.
  let failures = 0
  let retryAt = 0
  let lastError: BigRegisterUnavailableError | undefined
  let generation = 0

  const recordFailure = (err: BigRegisterUnavailableError, startedIn: number) => {
    if (startedIn !== generation) return
    generation++
    lastError = err
    retryAt = clock.now().getTime() + Math.min(backoffInitialMs * 2 ** failures, backoffMaxMs)
    failures++
  }

  const recordSuccess = () => {
    if (failures === 0) return
    generation++
    failures = 0
    retryAt = 0
    lastError = undefined
  }

  const answer = (number: string, entry: Entry): BigVerification => ({
    ...deriveBigStatus(number, entry.persons, allowedProfessions, clock.now(), register.source),
    checkedAt: new Date(entry.fetchedAt),
  })

  const store = (number: string, entry: Entry) => {
    cache.delete(number)
    if (cache.size >= maxEntries) {
      const now = clock.now().getTime()
      for (const [n, e] of cache) if (e.expiresAt <= now) cache.delete(n)
      while (cache.size >= maxEntries) {
        const oldest = cache.keys().next()
        if (oldest.done) break
        cache.delete(oldest.value)
      }
    }
    if (maxEntries > 0) cache.set(number, entry)
  }

  const fetchEntry = async (number: string): Promise<Entry> => {
    const fetchedAt = clock.now()
    const startedIn = generation
    let persons: BigPerson[]
    const started = performance.now()
    try {
      persons = await register.lookup(number)
    } catch (err) {
      observer?.registerCall('failed', (performance.now() - started) / 1000)
      if (err instanceof BigRegisterUnavailableError) recordFailure(err, startedIn)
      throw err
    }
    observer?.registerCall('answered', (performance.now() - started) / 1000)
    recordSuccess()
    const { status } = deriveBigStatus(number, persons, allowedProfessions, fetchedAt, register.source)
    const entry = { persons, fetchedAt, expiresAt: fetchedAt.getTime() + (status === 'registered' ? ttlRegisteredMs : ttlOtherMs) }
    store(number, entry)
    return entry
  }

  return {
    async verify(bigNumber: string): Promise<BigVerification> {
      const number = normalizeBigNumber(bigNumber)
      if (number === undefined) return deriveBigStatus('', [], allowedProfessions, clock.now(), register.source)
      const hit = cache.get(number)
      if (hit !== undefined) {
        if (clock.now().getTime() < hit.expiresAt) {
          observer?.lookup('hit')
          return answer(number, hit)
        }
        cache.delete(number)
      }
      let pending = inFlight.get(number)
      if (pending === undefined) {
        if (lastError !== undefined && clock.now().getTime() < retryAt) {
          observer?.lookup('backoff')
          throw new BigRegisterUnavailableError(lastError.reason, { httpStatus: lastError.httpStatus, cause: lastError })
        }
        pending = fetchEntry(number).finally(() => inFlight.delete(number))
        inFlight.set(number, pending)
      }
      observer?.lookup('miss')
      return answer(number, await pending)
    },
  }
}
