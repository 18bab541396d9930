import { createServer } from 'node:net'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyAuditChain } from '../src/audit/audit-verify.js'
import { openDatabase, type Db } from '../src/db/database.js'
import { consentResource, handoverBundle, newVNummer, taskResource } from './support/fhir-builders.js'
import { URA } from './support/people.js'
import { createTestApp, type TestApp } from './support/test-app.js'
import { usingServer } from './support/test-db.js'

/*
 * When PostgreSQL cannot serve, requests answer 503 with an OperationOutcome and Retry-After; no
 * lost connection ends the process; when the database serves again, so does the service.
 */

const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

describe('a database that cannot be reached', () => {
  let t: TestApp
  let unreachable: Db
  let real: Db
  beforeAll(async () => {
    t = await createTestApp()
    real = t.deps.db
    unreachable = await openDatabase({ kind: 'server', url: `postgres://overdracht@127.0.0.1:${await closedPort()}/overdracht`, connectTimeoutMs: 1_000 })
  })
  afterAll(async () => {
    t.deps.db = real
    await unreachable.destroy()
    await t.close()
  })

  it('every kind of request answers 503 with an OperationOutcome and Retry-After, and /readyz says 503; back on the database, they serve again', async () => {
    const vNummer = newVNummer()
    t.deps.db = unreachable
    try {
      const requests = [
        t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) }),
        t.get(`/fhir/Patient/00000000-0000-4000-8000-000000000000/$handelingsperspectief`, { as: 'regievoerder' }),
        t.get('/fhir/Task?owner=' + URA.dvo, { as: 'dvoEscort' }),
        t.get('/admin/emergency-reviews', { as: 'privacyOfficer' }),
      ]
      for (const res of await Promise.all(requests)) {
        expect(res.status, await res.clone().text()).toBe(503)
        expect(res.headers.get('retry-after')).toBeTruthy()
        expect(((await res.json()) as { resourceType: string; issue: { code: string }[] }).issue[0]!.code).toBe('transient')
      }
      expect((await t.get('/readyz')).status).toBe(503)
    } finally {
      t.deps.db = real
    }
    const again = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
    expect(again.status, await again.clone().text()).toBe(201)
  })
})

describe.skipIf(!usingServer())('connections killed by the server while requests run (PostgreSQL server)', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(async () => t?.close())

  it('backends terminated by an administrator mid-load give 503s, never a 500 or a crash; afterwards every request succeeds and the audit chain is intact', async () => {
    const vNummer = newVNummer()
    expect((await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })).status).toBe(201)
    expect((await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })).status).toBe(201)
    const start = new Date(t.clock.now().getTime() + 3 * 24 * 3600_000).toISOString()
    expect((await t.post('/fhir/Task', { as: 'regievoerder', body: taskResource({ vNummer, requester: URA.dtv, owner: URA.dvo, start }) })).status).toBe(201)
    const search = `/fhir/Patient?identifier=${encodeURIComponent(`https://overdracht.nl/fhir/NamingSystem/v-nummer|${vNummer}`)}`

    // A second connection of the test itself plays the administrator: pg_terminate_backend, the
    // same error a server restart sends ("terminating connection due to administrator command").
    const admin = await openDatabase({ kind: 'server', url: process.env.TEST_DATABASE_URL!.replace(/\/[^/]*$/, `/${await currentDatabase(t.db)}`), poolSize: 1 })
    const statuses = new Map<number, number>()
    try {
      for (let round = 0; round < 15; round++) {
        const load = Array.from({ length: 8 }, (_, i) =>
          i % 2 === 0 ? t.get(search, { as: 'gzaDoctor' }) : t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) }),
        )
        await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(admin)
        for (const res of await Promise.all(load)) {
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
          expect([200, 201, 503], await res.clone().text()).toContain(res.status)
        }
      }
    } finally {
      await admin.destroy()
    }
    expect(statuses.get(503) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0)
    // Serving again at once: the pool replaces the connections it lost.
    for (let i = 0; i < 10; i++) {
      const res = await t.get(search, { as: 'gzaDoctor' })
      expect(res.status, await res.clone().text()).toBe(200)
    }
    expect(await verifyAuditChain(t.db, t.deps.auditKey)).toMatchObject({ ok: true })
  }, 120_000)
})

async function currentDatabase(db: Db): Promise<string> {
  const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(db)
  return rows[0]!.name
}
