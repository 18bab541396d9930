import { sql, type Kysely } from 'kysely'

/** Patients, their identifiers and data keys, encrypted bundle versions. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('patient')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('erased_at', 'timestamptz')
    .execute()

  await db.schema
    .createTable('patient_identifier')
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text', (c) => c.notNull().references('patient.id'))
    .addPrimaryKeyConstraint('patient_identifier_pk', ['system', 'value'])
    .execute()
  await db.schema.createIndex('patient_identifier_patient_idx').on('patient_identifier').column('patient_id').execute()

  // The patient's data key, wrapped by the master key. Destroying it (wrapped_key = null)
  // makes every stored bundle of the patient unreadable: crypto-shredding.
  await db.schema
    .createTable('patient_key')
    .addColumn('patient_id', 'text', (c) => c.primaryKey().references('patient.id'))
    .addColumn('wrapped_key', 'text')
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('destroyed_at', 'timestamptz')
    .execute()

  await db.schema
    .createTable('bundle_version')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('patient_id', 'text', (c) => c.notNull().references('patient.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('bundle_type', 'text', (c) => c.notNull())
    .addColumn('content', 'text')
    .addColumn('content_bytes', 'integer', (c) => c.notNull())
    .addColumn('entry_count', 'integer', (c) => c.notNull())
    .addColumn('uploaded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('uploaded_by_org', 'text', (c) => c.notNull())
    .addColumn('uploaded_by_org_type', 'text', (c) => c.notNull())
    .addColumn('uploaded_by_user', 'text', (c) => c.notNull())
    .addUniqueConstraint('bundle_version_patient_version_uq', ['patient_id', 'version'])
    .execute()

  await sql`create index bundle_version_current_idx on bundle_version (patient_id, version desc)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bundle_version').execute()
  await db.schema.dropTable('patient_key').execute()
  await db.schema.dropTable('patient_identifier').execute()
  await db.schema.dropTable('patient').execute()
}
