import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, usingServer } from '../../test/support/test-db.js'
import { openDatabase, type Db } from './database.js'

// Prepared statements exist for a PostgreSQL server only (TEST_DATABASE_URL, as in CI).
describe.skipIf(!usingServer())('prepared statements on a PostgreSQL server', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  beforeAll(async () => {
    database = await createTestDatabase()
    db = await openDatabase({ kind: 'server', url: database.url!, poolSize: 1 })
    await sql`create table prep_probe (id int primary key, a text)`.execute(db)
    await sql`insert into prep_probe values (1, 'one'), (2, 'two')`.execute(db)
  })
  afterAll(async () => {
    await db.destroy()
    await database.drop()
  })

  const read = (id: number) => sql<Record<string, unknown>>`select * from prep_probe where id = ${id}`.execute(db)
  const prepared = async () =>
    (await sql<{ n: string }>`select count(*)::text as n from pg_prepared_statements where statement like ${'%prep_probe%'}`.execute(db)).rows[0]!.n

  it('prepares a parameterised statement once per connection and reuses it', async () => {
    expect((await read(1)).rows).toEqual([{ id: 1, a: 'one' }])
    expect((await read(2)).rows).toEqual([{ id: 2, a: 'two' }])
    expect(await prepared()).toBe('1')
  })

  it('survives a column added under it: prepared again, the call retried', async () => {
    await read(1)
    await sql`alter table prep_probe add column b text default 'new'`.execute(db)
    expect((await read(1)).rows).toEqual([{ id: 1, a: 'one', b: 'new' }])
    expect((await read(2)).rows).toEqual([{ id: 2, a: 'two', b: 'new' }])
  })

  it('inside a transaction the stale plan fails that transaction only; the next call works', async () => {
    await read(1)
    await sql`alter table prep_probe add column c text default 'c'`.execute(db)
    await expect(db.transaction().execute(async (trx) => sql`select * from prep_probe where id = ${1}`.execute(trx))).rejects.toThrow(/cached plan/)
    expect((await read(1)).rows).toEqual([{ id: 1, a: 'one', b: 'new', c: 'c' }])
  })

  it('can be switched off', async () => {
    const plain = await openDatabase({ kind: 'server', url: database.url!, poolSize: 1, preparedStatements: false })
    await sql`select * from prep_probe where id = ${1}`.execute(plain)
    expect((await sql<{ n: string }>`select count(*)::text as n from pg_prepared_statements`.execute(plain)).rows[0]!.n).toBe('0')
    await plain.destroy()
  })
})
