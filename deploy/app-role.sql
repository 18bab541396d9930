-- Overdracht: the grants of the service's own database role (SECURITY.md, "A database role for
-- the service"). Run after every migration, as the owner role that ran the migrations (or a
-- superuser), connected to the service's database. Safe to run again.
--
--   psql "postgres://overdracht_owner@HOST/overdracht" -v ON_ERROR_STOP=1 \
--     -v app_role=overdracht_app -f deploy/app-role.sql
--
-- The role itself is made by deploy/db-setup.sql. It may read and write the service's tables,
-- only read and append to the audit log, and make audit partitions only through
-- audit_event_create_partition(), which runs as its owner.
\set ON_ERROR_STOP on

grant usage on schema public to :"app_role";
grant select, insert, update, delete on all tables in schema public to :"app_role";
revoke update, delete, truncate on audit_event from :"app_role";
grant usage on all sequences in schema public to :"app_role";

-- The partitions made so far are tables of their own: no UPDATE, DELETE or TRUNCATE there either.
select format('revoke update, delete, truncate on %s from %I', inhrelid::regclass, :'app_role')
from pg_inherits
where inhparent = 'audit_event'::regclass \gexec

-- The retention job makes the coming months' partitions through this function. It runs as its
-- owner, the migrating role, with a fixed search_path, and PUBLIC may not call it.
grant execute on function audit_event_create_partition(date) to :"app_role";

-- Stricter than SECURITY.md: the service only reads kysely's migration bookkeeping at start-up
-- (is anything pending?). It must not be able to mark a migration undone or done.
revoke insert, update, delete on kysely_migration, kysely_migration_lock from :"app_role";

-- What the role ended up with, for the log of whoever ran this.
select 'grants for ' || :'app_role' as summary,
       count(*) filter (where has_table_privilege(:'app_role', c.oid, 'select')) as tables_readable,
       count(*) filter (where has_table_privilege(:'app_role', c.oid, 'update')) as tables_updatable,
       bool_or(has_table_privilege(:'app_role', c.oid, 'update') or has_table_privilege(:'app_role', c.oid, 'delete'))
         filter (where c.relname like 'audit_event%') as audit_event_writable
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p');
