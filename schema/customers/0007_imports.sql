-- Rows imported from CSV, by the digest of the profile each made: a re-run of a file (or two
-- imports of it at once) finds its rows here and changes nothing. A deleted customer takes its
-- row with it, so importing it again brings it back.
CREATE TABLE customers.imported_rows (
    tenant_id uuid NOT NULL,
    digest text NOT NULL,
    customer_id uuid NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, digest),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers.customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX imported_rows_customer ON customers.imported_rows (tenant_id, customer_id);

ALTER TABLE customers.imported_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers.imported_rows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers.imported_rows USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, DELETE ON customers.imported_rows TO kefu_service;
