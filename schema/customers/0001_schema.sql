-- The customers service's own schema. Tables that follow lead every key with tenant_id and force
-- row-level security with a policy on kefu.current_tenant().
CREATE SCHEMA customers;
GRANT USAGE ON SCHEMA customers TO kefu_service;
