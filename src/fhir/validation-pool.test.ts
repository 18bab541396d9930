import { afterAll, describe, expect, it } from 'vitest'
import { checkFhirText } from './validation.js'
import { createFhirValidator } from './validation-pool.js'

const pool = createFhirValidator({ threads: 1, inlineBelowBytes: 1024 })
afterAll(() => pool.close())

const bundle = (entries: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    resourceType: 'Bundle',
    type: 'collection',
    entry: Array.from({ length: entries }, (_, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra },
    })),
  })

describe('FHIR validation in worker threads', () => {
  it('a large body is checked in a worker thread and gets the same verdict as inline, valid or not', async () => {
    for (const text of [bundle(50), bundle(50, { status: 'not-a-status' }), bundle(50, { unknownElement: 1 }), `${bundle(50).slice(0, -1)},}`]) {
      const before = pool.checkedInWorkers()
      expect(await pool.check(text, { resourceType: 'Bundle' })).toEqual(checkFhirText(text, { resourceType: 'Bundle' }))
      expect(pool.checkedInWorkers()).toBe(before + 1)
    }
  })

  it('a small body is checked inline, where a round trip would cost more than the check', async () => {
    const before = pool.checkedInWorkers()
    expect(await pool.check(bundle(1), { resourceType: 'Bundle' })).toEqual({ ok: true })
    expect(pool.checkedInWorkers()).toBe(before)
  })

  it('the entry cap and the resource type are answered before validation, in the worker too', async () => {
    expect(await pool.check(bundle(50), { resourceType: 'Bundle', maxEntries: 10 })).toMatchObject({ ok: false, status: 422, issues: [{ code: 'too-costly' }] })
    expect(await pool.check(bundle(50), { resourceType: 'Consent' })).toMatchObject({ ok: false, status: 400 })
  })
})

describe('a full validation queue', () => {
  it('holds bodies up to its size bound, then turns the next away', async () => {
    const text = bundle(2000)
    const bounded = createFhirValidator({ threads: 1, inlineBelowBytes: 1024, maxQueuedBytes: text.length * 2 })
    try {
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => bounded.check(text, { resourceType: 'Bundle' })))
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(2)
      expect(results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'ValidationBusyError').length).toBe(4)
      // Once the queue has drained, bodies are taken again.
      expect(await bounded.check(text, { resourceType: 'Bundle' })).toEqual({ ok: true })
    } finally {
      await bounded.close()
    }
  })
  it('turns large bodies away with ValidationBusyError instead of holding them in memory without bound', async () => {
    const small = createFhirValidator({ threads: 1, inlineBelowBytes: 1024, maxQueue: 1 })
    try {
      const text = bundle(2000)
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => small.check(text, { resourceType: 'Bundle' })))
      const busy = results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'ValidationBusyError')
      expect(busy.length).toBeGreaterThan(0)
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0)
    } finally {
      await small.close()
    }
  })
})
