import { sql, type Kysely } from 'kysely'

/** Consent records, the service's consent-token signing keys, emergency access windows. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('consent')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('patient_id', 'text', (c) => c.notNull().references('patient.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'rejected', 'inactive')`))
    // When the patient decided (Consent.dateTime), as the form says.
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    // When the service received it: precedence between consents follows this, not a client's clock.
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('withdrawn_at', 'timestamptz')
    .addColumn('period_start', 'timestamptz')
    .addColumn('period_end', 'timestamptz')
    .addColumn('form_type', 'text')
    .addColumn('form_version', 'text')
    // The provisions as decision facts: purposes, recipient identifiers and types, periods.
    .addColumn('provisions', 'jsonb', (c) => c.notNull())
    .addColumn('recorded_by_org', 'text', (c) => c.notNull())
    .addColumn('recorded_by_user', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    // The Consent resource, with the signed form, encrypted with the patient's data key.
    .addColumn('resource', 'text')
    .execute()
  await db.schema.createIndex('consent_patient_idx').on('consent').columns(['patient_id', 'received_at']).execute()

  await db.schema
    .createTable('signing_key')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('retired_at', 'timestamptz')
    .addColumn('verify_until', 'timestamptz')
    .execute()

  await db.schema
    .createTable('emergency_access')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('patient_id', 'text', (c) => c.notNull().references('patient.id'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('org_type', 'text', (c) => c.notNull())
    .addColumn('big_number', 'text')
    // The written reason may say why, so it is encrypted like the dossier.
    .addColumn('reason', 'text')
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('review_status', 'text', (c) => c.notNull().check(sql`review_status in ('open', 'closed')`))
    .addColumn('reviewed_by', 'text')
    .addColumn('reviewed_at', 'timestamptz')
    .addColumn('review_conclusion', 'text')
    .addColumn('review_note', 'text')
    .execute()
  await db.schema
    .createIndex('emergency_access_window_idx')
    .on('emergency_access')
    .columns(['patient_id', 'user_id', 'expires_at'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('emergency_access').execute()
  await db.schema.dropTable('signing_key').execute()
  await db.schema.dropTable('consent').execute()
}
