import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { PGliteDialect } from './pglite-dialect.js'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

export type DatabaseTarget =
  | { kind: 'server'; url: string; poolSize?: number }
  | { kind: 'embedded'; dataDir: string | undefined }

/** Opens the database: a PostgreSQL server through `pg`, or embedded PostgreSQL (PGlite). */
export async function openDatabase(target: DatabaseTarget): Promise<Db> {
  if (target.kind === 'server') {
    const pool = new pg.Pool({ connectionString: target.url, max: target.poolSize ?? 10 })
    // An idle client losing its server connection must not take the process down.
    pool.on('error', () => {})
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  }
  if (target.dataDir !== undefined) await mkdir(target.dataDir, { recursive: true })
  const pglite = await PGlite.create(target.dataDir ?? 'memory://')
  return new Kysely<Database>({ dialect: new PGliteDialect(pglite) })
}
