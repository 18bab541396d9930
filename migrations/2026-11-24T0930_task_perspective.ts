import { sql, type Kysely } from 'kysely'

/** Transfers, departures and cases (no medical data), and the derived handelingsperspectief. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('task')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull().check(sql`code in ('transfer', 'departure', 'case')`))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text', (c) => c.notNull().references('patient.id'))
    .addColumn('requester_org', 'text', (c) => c.notNull())
    .addColumn('owner_org', 'text', (c) => c.notNull())
    .addColumn('recipient_orgs', sql`text[]`, (c) => c.notNull())
    .addColumn('planned_start', 'timestamptz')
    .addColumn('handover_method', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz')
    // The Task as the service answers it: codes, identifiers, dates; no free text (refused on input).
    .addColumn('resource', 'jsonb', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('task_owner_idx').on('task').columns(['owner_org', 'status']).execute()
  await db.schema.createIndex('task_requester_idx').on('task').columns(['requester_org', 'status']).execute()
  await db.schema.createIndex('task_patient_idx').on('task').columns(['patient_id', 'status']).execute()
  await sql`create index task_recipients_idx on task using gin (recipient_orgs)`.execute(db)

  await db.schema
    .createTable('perspective')
    .addColumn('bundle_id', 'text', (c) => c.primaryKey().references('bundle_version.id'))
    .addColumn('patient_id', 'text', (c) => c.notNull().references('patient.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    // Codes of the closed vocabulary only: never text from the bundle.
    .addColumn('flags', 'jsonb', (c) => c.notNull())
    .addColumn('fit_assessed_at', 'timestamptz')
    .addColumn('issuer_org', 'text', (c) => c.notNull())
    .addColumn('issuer_org_type', 'text', (c) => c.notNull())
    .addColumn('reviewer_role', 'text', (c) => c.notNull())
    .addColumn('reviewed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('erased_at', 'timestamptz')
    .execute()
  await sql`create index perspective_current_idx on perspective (patient_id, version desc)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('perspective').execute()
  await db.schema.dropTable('task').execute()
}
