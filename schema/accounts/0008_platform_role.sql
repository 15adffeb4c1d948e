-- Listing every tenant is the platform operator's alone: accounts.platform_tenants moves from the
-- serving role to kefu_platform, a login that can do nothing else (scripts/bootstrap.sql creates
-- it; the platform routes connect as it). accounts.tenant_by_slug stays with the serving role:
-- sign-in names a tenant by slug before any tenant is set, and it answers one exact slug only.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kefu_platform') THEN
        RAISE EXCEPTION 'role kefu_platform does not exist: run scripts/bootstrap.sql on this cluster again';
    END IF;
END $$;

REVOKE EXECUTE ON FUNCTION accounts.platform_tenants(text, integer) FROM kefu_service;
GRANT USAGE ON SCHEMA accounts TO kefu_platform;
GRANT EXECUTE ON FUNCTION accounts.platform_tenants(text, integer) TO kefu_platform;
