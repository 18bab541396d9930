import { sql, type Kysely } from 'kysely'

/**
 * FHIR versioning per resource: every version of a Task and a Consent, for vread and instance
 * `_history`. A Task version holds codes, identifiers and dates (like the task row); a Consent
 * version is encrypted with the patient's data key like the consent row, so erasure's
 * crypto-shredding covers it too. Tasks get their business identifiers as a column of
 * `system|value` strings, for conditional update by identifier.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('task_version')
    .addColumn('task_id', 'text', (c) => c.notNull().references('task.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('resource', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('task_version_pk', ['task_id', 'version'])
    .execute()
  await db.schema
    .createTable('consent_version')
    .addColumn('consent_id', 'text', (c) => c.notNull().references('consent.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('resource', 'text')
    .addPrimaryKeyConstraint('consent_version_pk', ['consent_id', 'version'])
    .execute()
  // What exists already is its own first known version.
  await sql`insert into task_version (task_id, version, recorded_at, resource) select id, version, updated_at, resource from task`.execute(db)
  await sql`insert into consent_version (consent_id, version, recorded_at, resource) select id, version, updated_at, resource from consent`.execute(db)

  await sql`alter table task add column identifiers text[] not null default '{}'`.execute(db)
  await sql`create index task_identifiers_idx on task using gin (identifiers)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table task drop column identifiers`.execute(db)
  await db.schema.dropTable('consent_version').execute()
  await db.schema.dropTable('task_version').execute()
}
