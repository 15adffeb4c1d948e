-- The members of each reception group, as reception's snapshot lists them (refreshed on every
-- `reception.config_changed` of kind group): "my groups" and "other members of my groups" data
-- scopes, and the team pools an employee may claim from, are read from here.
CREATE TABLE customers.group_members (
    tenant_id uuid NOT NULL,
    group_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, group_id, employee_id)
);
CREATE INDEX group_members_employee ON customers.group_members (tenant_id, employee_id);

ALTER TABLE customers.group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers.group_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers.group_members USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, DELETE ON customers.group_members TO kefu_service;
