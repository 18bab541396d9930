-- Overdracht: the database and its two roles. Run as a PostgreSQL superuser (or a role with
-- CREATEROLE and CREATEDB), before the migrations. Safe to run again: it creates what is missing
-- and sets the passwords. It makes no tables; the migrations do (as the owner role).
--
--   psql "postgres://postgres@HOST/postgres" -v ON_ERROR_STOP=1 \
--     -v database=overdracht \
--     -v owner_role=overdracht_owner -v owner_password="$OWNER_PASSWORD" \
--     -v app_role=overdracht_app -v app_password="$APP_PASSWORD" \
--     -f deploy/db-setup.sql
--
-- The owner role owns the schema and runs the migrations; it is not a superuser, so it cannot
-- switch off the audit log's triggers on tables it does not own. The app role is what the service
-- connects as; deploy/app-role.sql gives it its grants after each migration (SECURITY.md, "A
-- database role for the service").
\set ON_ERROR_STOP on

select format('create role %I login', :'owner_role')
where not exists (select from pg_roles where rolname = :'owner_role') \gexec
select format('alter role %I with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password %L',
              :'owner_role', :'owner_password') \gexec

select format('create role %I login', :'app_role')
where not exists (select from pg_roles where rolname = :'app_role') \gexec
select format('alter role %I with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password %L',
              :'app_role', :'app_password') \gexec

select format('create database %I owner %I encoding %L template template0', :'database', :'owner_role', 'UTF8')
where not exists (select from pg_database where datname = :'database') \gexec

-- Only the two roles may connect.
select format('revoke connect, temporary on database %I from public', :'database') \gexec
select format('grant connect on database %I to %I, %I', :'database', :'owner_role', :'app_role') \gexec

\connect :"database"
-- The owner role owns the schema the tables go in. Before PostgreSQL 15 every role could create
-- objects in schema public; nobody but the owner may here, so the app role can never make a table
-- or a function of its own that could stand in for one of the service's.
alter schema public owner to :"owner_role";
revoke create on schema public from public;
