import { sql, type Kysely } from 'kysely'

/**
 * The retention job makes the coming months' audit partitions with
 * `audit_event_create_partition(month)`. Creating a partition needs ownership of `audit_event`,
 * which the service's own role (SECURITY.md) rightly lacks, so the function now runs as its
 * owner, the migrating role: SECURITY DEFINER with a fixed `search_path` (this schema, then
 * `pg_temp`, so no object of the caller's can stand in for `audit_event` or the trigger
 * function). It only makes the partition of one month, with the append-only trigger; names and
 * dates are quoted with %I and %L.
 *
 * A function is executable by PUBLIC by default; this one is not: EXECUTE goes to the service's
 * role only. SECURITY.md's role setup grants it; a role named `overdracht_app` that exists
 * already (set up before this migration) gets it here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const schema = rows[0]!.schema
  await sql`alter function audit_event_create_partition(date) owner to current_user`.execute(db)
  await sql`
    alter function audit_event_create_partition(date)
    security definer
    set search_path = ${sql.id(schema)}, pg_temp`.execute(db)
  await sql`revoke execute on function audit_event_create_partition(date) from public`.execute(db)
  await sql`
    do $$
    begin
      if exists (select 1 from pg_roles where rolname = 'overdracht_app') then
        grant execute on function audit_event_create_partition(date) to overdracht_app;
      end if;
    end $$`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    do $$
    begin
      if exists (select 1 from pg_roles where rolname = 'overdracht_app') then
        revoke execute on function audit_event_create_partition(date) from overdracht_app;
      end if;
    end $$`.execute(db)
  await sql`grant execute on function audit_event_create_partition(date) to public`.execute(db)
  await sql`alter function audit_event_create_partition(date) security invoker reset search_path`.execute(db)
}
