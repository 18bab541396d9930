import { sql, type Kysely } from 'kysely'

/**
 * The append-only audit log of access decisions (NEN 7513 fields). The database itself refuses
 * updates, deletes and truncation, so the application cannot rewrite history even by mistake.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_event')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('C', 'R', 'U', 'D', 'E')`))
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('permit', 'deny')`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text')
    .addColumn('responsible_user_id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('org_type', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('big_number', 'text')
    .addColumn('access_point', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text')
    .addColumn('data_segment', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('legal_basis', 'text')
    .addColumn('consent_id', 'text')
    .addColumn('break_glass', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('resource_type', 'text')
    .addColumn('resource_id', 'text')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('source_system', 'text', (c) => c.notNull())
    .addColumn('detail', 'jsonb')
    .execute()
  await db.schema.createIndex('audit_event_patient_idx').on('audit_event').columns(['patient_id', 'occurred_at']).execute()

  await sql`
    create function audit_event_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_event is append-only' using errcode = '42501';
    end $$`.execute(db)
  await sql`
    create trigger audit_event_no_update_delete before update or delete on audit_event
    for each row execute function audit_event_append_only()`.execute(db)
  await sql`
    create trigger audit_event_no_truncate before truncate on audit_event
    for each statement execute function audit_event_append_only()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_event').execute()
  await sql`drop function audit_event_append_only()`.execute(db)
}
