-- Creates the database roles and the database. Run once per cluster as a superuser (running it
-- again adds what is missing, so an existing cluster gets roles added since):
--   psql -v owner_password=… -v app_password=… [-v events_password=… -v platform_password=…] -f scripts/bootstrap.sql
-- kefu_owner    owns every object and runs migrations; BYPASSRLS only so that the few SECURITY
--               DEFINER functions (kefu.events_since, accounts.platform_tenants …) can read
--               across tenants.
-- kefu_service  group role holding the serving privileges that migrations grant.
-- kefu_app      the serving login: owns nothing, member of kefu_service, cannot bypass RLS.
-- kefu_events   the event consumers' login: may read every tenant's events and keep consumer
--               cursors (migrations grant exactly that), nothing else.
-- kefu_platform the platform operator routes' login: may list every tenant, nothing else.
\if :{?events_password}
\else
\set events_password kefu_events
\endif
\if :{?platform_password}
\else
\set platform_password kefu_platform
\endif
SELECT format('CREATE ROLE kefu_owner LOGIN BYPASSRLS PASSWORD %L', :'owner_password')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kefu_owner') \gexec
SELECT 'CREATE ROLE kefu_service NOLOGIN NOBYPASSRLS'
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kefu_service') \gexec
SELECT format('CREATE ROLE kefu_app LOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE IN ROLE kefu_service PASSWORD %L', :'app_password')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kefu_app') \gexec
SELECT format('CREATE ROLE kefu_events LOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'events_password')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kefu_events') \gexec
SELECT format('CREATE ROLE kefu_platform LOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'platform_password')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kefu_platform') \gexec
SELECT format('CREATE DATABASE %I OWNER kefu_owner', :'database')
    WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
\connect :database
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :database FROM PUBLIC;
GRANT CONNECT ON DATABASE :database TO kefu_app, kefu_events, kefu_platform;
