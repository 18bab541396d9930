import { sql, type Kysely } from 'kysely'

/**
 * Short codes: what a caregiver reads out or writes down for an escort nurse who cannot scan the
 * QR code. A row holds the consent token encrypted under a key derived from the code and the
 * master key, found by an HMAC of the code: a copy of the table yields neither codes nor tokens.
 * Failed attempts are counted per person, so several instances share the limit.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('consent_short_code')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    .addColumn('consent_id', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('consent_short_code_patient_idx').on('consent_short_code').column('patient_id').execute()
  await db.schema.createIndex('consent_short_code_expires_idx').on('consent_short_code').column('expires_at').execute()
  await db.schema
    .createTable('short_code_attempt')
    .addColumn('subject_hash', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('short_code_attempt_subject_idx').on('short_code_attempt').columns(['subject_hash', 'at']).execute()
  // Erasure and withdrawal remove a patient's codes; this keeps a forgotten code from outliving its patient.
  await sql`comment on table consent_short_code is 'Short codes for consent tokens; removed on withdrawal, erasure and expiry'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('short_code_attempt').execute()
  await db.schema.dropTable('consent_short_code').execute()
}
