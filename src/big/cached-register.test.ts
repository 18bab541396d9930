import { beforeEach, describe, expect, it } from 'vitest'
import { FixedClock } from '../clock.js'
import { BigRegisterUnavailableError, type BigRegister } from './big-register.js'
import type { BigPerson } from './big.types.js'
import { createBigVerifier } from './cached-register.js'

const A = '19012345601'
const B = '29012345630'

const person = (bigNumber: string): BigPerson => ({
  mailingName: 'A.M. Voorbeeld',
  gender: 'V',
  registrations: [{ bigNumber, professionalGroupCode: '01', startDate: '2009-07-01T00:00:00', endDate: null }],
  specialisms: [],
  judgments: [],
  limitations: [],
})

/**
 * A register double that counts its calls. Down, it throws `BigRegisterUnavailableError`;
 * `hold()` keeps the next calls waiting until `release()`, to make checks concurrent.
 */
function countingRegister() {
  let down = false
  let held: Array<() => void> | undefined
  const calls: string[] = []
  const register: BigRegister = {
    source: 'soap',
    async lookup(bigNumber) {
      calls.push(bigNumber)
      if (held) await new Promise<void>((resolve) => held!.push(resolve))
      if (down) throw new BigRegisterUnavailableError('http-status', { httpStatus: 503 })
      return [person(bigNumber)]
    },
  }
  return {
    register,
    calls,
    setDown: (value: boolean) => {
      down = value
    },
    hold: () => {
      held = []
    },
    release: () => {
      const waiting = held ?? []
      held = undefined
      for (const resolve of waiting) resolve()
    },
  }
}

const unavailable = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(BigRegisterUnavailableError)
  return err as BigRegisterUnavailableError
}

describe('the BIG verifier while the register is down', () => {
  let clock: FixedClock
  let fake: ReturnType<typeof countingRegister>
  beforeEach(() => {
    clock = new FixedClock('2026-11-24T09:00:00Z')
    fake = countingRegister()
  })
  const verifier = () => createBigVerifier({ register: fake.register, clock })

  it('concurrent checks of one number share one register call', async () => {
    const v = verifier()
    fake.hold()
    const checks = Promise.all([v.verify(A), v.verify(A), v.verify(` ${A} `), v.verify(A)])
    fake.release()
    expect((await checks).map((r) => r.status)).toEqual(['registered', 'registered', 'registered', 'registered'])
    expect(fake.calls).toEqual([A])
  })

  it('concurrent checks of one number share one failing register call', async () => {
    const v = verifier()
    fake.setDown(true)
    fake.hold()
    const checks = [v.verify(A), v.verify(A), v.verify(A)].map(unavailable)
    fake.release()
    await Promise.all(checks)
    expect(fake.calls).toEqual([A])
  })

  it('fails fast with the same error for 1 s after a failure, for every number, without asking the register', async () => {
    const v = verifier()
    fake.setDown(true)
    const first = await unavailable(v.verify(A))
    for (const number of [A, B, A]) {
      clock.advance(300)
      const fast = await unavailable(v.verify(number))
      expect({ reason: fast.reason, httpStatus: fast.httpStatus }).toEqual({ reason: first.reason, httpStatus: first.httpStatus })
    }
    expect(fake.calls).toEqual([A])
  })

  it('asks the register again once the window has passed, and doubles the window up to 30 s with each failure', async () => {
    const v = verifier()
    fake.setDown(true)
    const windows = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]
    for (const [i, ms] of windows.entries()) {
      await unavailable(v.verify(A))
      expect(fake.calls).toHaveLength(i + 1)
      clock.advance(ms - 1)
      await unavailable(v.verify(A))
      expect(fake.calls, `window ${i + 1} is ${ms} ms`).toHaveLength(i + 1)
      clock.advance(1)
    }
  })

  it('counts failures of lookups that were under way together as one', async () => {
    const v = verifier()
    fake.setDown(true)
    fake.hold()
    const checks = [v.verify(A), v.verify(B)].map(unavailable)
    fake.release()
    await Promise.all(checks)
    expect(fake.calls).toEqual([A, B])
    clock.advance(1_000)
    await unavailable(v.verify(A))
    expect(fake.calls).toHaveLength(3)
  })

  it('a success ends the back-off: the next failure waits 1 s again', async () => {
    const v = createBigVerifier({ register: fake.register, clock, ttlRegisteredMs: 0 })
    fake.setDown(true)
    await unavailable(v.verify(A))
    clock.advance(1_000)
    await unavailable(v.verify(A))
    clock.advance(2_000)
    fake.setDown(false)
    expect((await v.verify(A)).status).toBe('registered')
    expect((await v.verify(B)).status).toBe('registered')
    fake.setDown(true)
    await unavailable(v.verify(A))
    clock.advance(1_000)
    await unavailable(v.verify(A))
    expect(fake.calls).toEqual([A, A, A, B, A, A])
  })

  it('still answers unexpired cached numbers during the back-off', async () => {
    const v = verifier()
    await v.verify(A)
    fake.setDown(true)
    await unavailable(v.verify(B))
    expect((await v.verify(A)).status).toBe('registered')
    expect(fake.calls).toEqual([A, B])
  })

  it('does not back off after an error that is not the register being unavailable', async () => {
    let calls = 0
    const register: BigRegister = {
      source: 'soap',
      async lookup() {
        calls++
        throw new TypeError('a bug')
      },
    }
    const v = createBigVerifier({ register, clock })
    await expect(v.verify(A)).rejects.toBeInstanceOf(TypeError)
    await expect(v.verify(A)).rejects.toBeInstanceOf(TypeError)
    expect(calls).toBe(2)
  })
})
