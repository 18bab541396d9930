import { sql, type Kysely } from 'kysely'

/**
 * Care relationships as facts with provenance: which organisation stands in which relationship to
 * a patient, which record or task created it, who did, when, and until when. Access decisions rest
 * on these rows, never on who happened to write something about the patient.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('care_relationship')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('patient_id', 'text', (c) => c.notNull().references('patient.id'))
    .addColumn('org', 'text', (c) => c.notNull())
    // custodian: responsible for the dossier here; receiver: owner of an open transfer to it;
    // task-party: named by a departure, case or transfer task (flags only).
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('custodian', 'receiver', 'task-party')`))
    .addColumn('source_type', 'text', (c) => c.notNull().check(sql`source_type in ('consent', 'task')`))
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('established_by_org', 'text', (c) => c.notNull())
    .addColumn('established_by_user', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    // Null while it holds with no end in sight; a task party's ends with the task plus the grace period.
    .addColumn('ends_at', 'timestamptz')
    .execute()
  await sql`create index care_relationship_patient_org_idx on care_relationship (patient_id, org)`.execute(db)
  await sql`create index care_relationship_source_idx on care_relationship (source_id)`.execute(db)

  // Existing data: the organisation that recorded a patient's first consent or refusal is its
  // custodian. Task parties of open tasks keep their flags.
  await sql`
    insert into care_relationship (id, patient_id, org, kind, source_type, source_id, established_by_org, established_by_user, started_at, ends_at)
    select 'mig-' || c.id, c.patient_id, c.recorded_by_org, 'custodian', 'consent', c.id, c.recorded_by_org, c.recorded_by_user, c.received_at, null
    from consent c
    where c.received_at = (select min(c2.received_at) from consent c2 where c2.patient_id = c.patient_id)`.execute(db)

  // Emergency windows are bound to the caller's issuer, subject, organisation and BIG number.
  await db.schema.alterTable('emergency_access').addColumn('issuer', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('emergency_access').dropColumn('issuer').execute()
  await db.schema.dropTable('care_relationship').execute()
}
