import { randomBytes } from 'node:crypto'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { openDatabase, type Db, type StatementObserver } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrator.js'
import type { Database } from '../../src/db/schema.js'

/**
 * A fresh, migrated database for one test file. With TEST_DATABASE_URL set (CI's real PostgreSQL
 * server), each call creates its own database on that server and drops it afterwards; otherwise
 * an in-memory embedded PostgreSQL (PGlite).
 */
export async function createTestDatabase(options: { onStatement?: StatementObserver } = {}): Promise<{ db: Db; url: string | undefined; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL
  if (!serverUrl) {
    const db = await openDatabase({ kind: 'embedded', dataDir: undefined, ...options })
    await migrateToLatest(db)
    return { db, url: undefined, drop: () => db.destroy() }
  }
  const name = `overdracht_test_${randomBytes(6).toString('hex')}`
  const admin = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: serverUrl, max: 1 }) }) })
  await sql`create database ${sql.id(name)}`.execute(admin)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const db = (await openDatabase({ kind: 'server', url: url.toString(), poolSize: 5, ...options })) as Kysely<Database>
  await migrateToLatest(db)
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.destroy()
      await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin)
      await admin.destroy()
    },
  }
}

export const usingServer = () => process.env.TEST_DATABASE_URL !== undefined && process.env.TEST_DATABASE_URL !== ''
