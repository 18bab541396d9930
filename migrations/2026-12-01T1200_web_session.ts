import { sql, type Kysely } from 'kysely'

/**
 * Server-side sessions of the web application, shared by every instance. The cookie holds a random
 * session id; the table holds only its SHA-256 hash, so a copy of the table signs nobody in.
 * A row with `principal` null is a sign-in under way (state, nonce and PKCE verifier).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('web_session')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('pending', 'session')`))
    .addColumn('principal', 'jsonb')
    .addColumn('csrf_token', 'text')
    .addColumn('login', 'jsonb')
    .addColumn('id_token', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('web_session_expires_idx').on('web_session').column('expires_at').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('web_session').execute()
}
