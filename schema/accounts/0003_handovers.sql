-- Business handovers (业务交接): who handed whose business to whom. The customer library and
-- routing apply them from the employee.business_transferred event.
CREATE TABLE accounts.handovers (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    from_employee_id uuid NOT NULL,
    to_employee_id uuid NOT NULL,
    note text,
    created_by_type text NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, from_employee_id) REFERENCES accounts.employees (tenant_id, id),
    FOREIGN KEY (tenant_id, to_employee_id) REFERENCES accounts.employees (tenant_id, id),
    CHECK (from_employee_id <> to_employee_id)
);
CREATE INDEX handovers_created ON accounts.handovers (tenant_id, created_at DESC, id);
ALTER TABLE accounts.handovers ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts.handovers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts.handovers
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT ON accounts.handovers TO kefu_service;
