import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { migrations } from '../migrations/index.js'
import { createTestDatabase, usingServer } from './support/test-db.js'
import { createTestApp, type TestApp } from './support/test-app.js'

describe('migrations', () => {
  it('two instances migrating the same database at once apply each migration exactly once', async () => {
    const fresh = await createTestDatabase()
    try {
      // A second connection pool to the same database when on a server; PGlite has one connection.
      const other = fresh.url ? await openDatabase({ kind: 'server', url: fresh.url, poolSize: 2 }) : fresh.db
      const [a, b] = await Promise.all([migrateToLatest(fresh.db), migrateToLatest(other)])
      const applied = [...(a.results ?? []), ...(b.results ?? [])].filter((r) => r.status === 'Success').map((r) => r.migrationName)
      expect(applied.sort()).toEqual([]) // createTestDatabase already migrated: nothing left to do
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(fresh.db)
      expect(rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort())
      if (other !== fresh.db) await other.destroy()
    } finally {
      await fresh.drop()
    }
  })

  it.runIf(usingServer())('on an empty server database, concurrent start-ups run every migration once', async () => {
    const fresh = await createTestDatabase()
    try {
      await sql`drop schema public cascade`.execute(fresh.db)
      await sql`create schema public`.execute(fresh.db)
      const pools = await Promise.all([1, 2, 3].map(() => openDatabase({ kind: 'server', url: fresh.url!, poolSize: 2 })))
      const results = await Promise.all(pools.map((db) => migrateToLatest(db)))
      const applied = results.flatMap((r) => r.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
      expect(applied.sort()).toEqual(Object.keys(migrations).sort())
      await Promise.all(pools.map((db) => db.destroy()))
    } finally {
      await fresh.drop()
    }
  })
})

describe('health', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(async () => t?.close())

  it('GET /healthz answers while the process is up', async () => {
    const res = await t.get('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'up' })
  })

  it('GET /readyz answers 200 when the database is reachable and 503 with an OperationOutcome when it is not', async () => {
    expect((await t.get('/readyz')).status).toBe(200)
    const broken = await createTestApp()
    await broken.db.destroy()
    const res = await broken.get('/readyz')
    const body = await res.text()
    expect(res.status, body).toBe(503)
    expect(JSON.parse(body).resourceType).toBe('OperationOutcome')
    await broken.close().catch(() => {})
  })

  it('an unknown endpoint is a 404 OperationOutcome', async () => {
    const res = await t.get('/nothing-here')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('application/fhir+json')
  })
})
