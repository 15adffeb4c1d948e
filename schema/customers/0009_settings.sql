-- Tenant settings of the library, one jsonb document per key (`library`: the follow-up statuses
-- and funnel stages a tenant uses; DOMAIN.md's defaults until written).
CREATE TABLE customers.settings (
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    body jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

ALTER TABLE customers.settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers.settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers.settings USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE ON customers.settings TO kefu_service;
