-- The benchmark's own tenant table, shaped like every service table (tenant_id first, RLS forced).
CREATE SCHEMA IF NOT EXISTS bench;
GRANT USAGE ON SCHEMA bench TO kefu_service;
CREATE TABLE IF NOT EXISTS bench.items (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE bench.items ENABLE ROW LEVEL SECURITY;
ALTER TABLE bench.items FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON bench.items;
CREATE POLICY tenant_isolation ON bench.items
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT ON bench.items TO kefu_service;
