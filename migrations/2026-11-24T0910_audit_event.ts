import { sql, type Kysely } from 'kysely'

/**
 * The audit log of access decisions with the NEN 7513 fields, partitioned by month.
 *
 * - Append-only in the database itself: a trigger refuses UPDATE and DELETE on every row and
 *   TRUNCATE on the table and on each partition, whoever asks.
 * - Hash-chained: each entry carries the keyed hash of the one before (`prev_hash`) and its own
 *   (`hash`), so `npm run audit:verify` finds a changed, removed or inserted entry.
 * - Partitions are made ahead by `audit_event_create_partition(month)`; a default partition
 *   catches anything outside them, so an insert never fails for want of a partition.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence audit_event_id_seq as bigint`.execute(db)
  await sql`
    create table audit_event (
      id bigint not null default nextval('audit_event_id_seq'),
      occurred_at timestamptz not null,
      event_type text not null,
      action text not null check (action in ('C', 'R', 'U', 'D', 'E')),
      outcome text not null check (outcome in ('permit', 'deny')),
      reason text not null,
      user_id text not null,
      user_name text,
      responsible_user_id text not null,
      org_id text not null,
      org_type text not null,
      role text not null,
      big_number text,
      access_point text not null,
      patient_id text,
      data_segment text not null,
      purpose text not null,
      legal_basis text,
      consent_id text,
      break_glass boolean not null default false,
      resource_type text,
      resource_id text,
      request_id text not null,
      source_system text not null,
      detail jsonb,
      prev_hash text not null,
      hash text not null,
      primary key (id, occurred_at)
    ) partition by range (occurred_at)`.execute(db)
  await sql`alter sequence audit_event_id_seq owned by audit_event.id`.execute(db)
  await sql`create index audit_event_patient_idx on audit_event (patient_id, occurred_at)`.execute(db)

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

  await sql`
    create function audit_event_create_partition(month date) returns text language plpgsql as $$
    declare
      start date := date_trunc('month', month)::date;
      name text := format('audit_event_y%sm%s', to_char(start, 'YYYY'), to_char(start, 'MM'));
    begin
      if to_regclass(name) is null then
        execute format('create table %I partition of audit_event for values from (%L) to (%L)',
          name, start, (start + interval '1 month')::date);
        execute format('create trigger audit_event_no_truncate before truncate on %I
          for each statement execute function audit_event_append_only()', name);
      end if;
      return name;
    end $$`.execute(db)

  await sql`create table audit_event_default partition of audit_event default`.execute(db)
  await sql`
    create trigger audit_event_no_truncate before truncate on audit_event_default
    for each statement execute function audit_event_append_only()`.execute(db)
  await sql`
    select audit_event_create_partition((date_trunc('month', now()) + make_interval(months => m))::date)
    from generate_series(-1, 12) as m`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table audit_event`.execute(db)
  await sql`drop function audit_event_create_partition(date)`.execute(db)
  await sql`drop function audit_event_append_only()`.execute(db)
}
