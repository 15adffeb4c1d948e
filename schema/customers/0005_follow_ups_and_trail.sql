-- Follow-up records (跟进记录), private remark names (私人备注), favourites, and the pages a
-- customer browsed: what the trail (客户轨迹) shows beside receptions and merges. Each moves with
-- its customer when it is merged, and goes when it is deleted.
CREATE TABLE customers.follow_ups (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    customer_id uuid NOT NULL,
    author_id uuid,
    note text NOT NULL,
    -- When the follow-up happened (the note's date), which may be before it was written.
    at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers.customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX follow_ups_customer ON customers.follow_ups (tenant_id, customer_id, at, id);

-- Each employee's own name for a customer, visible only to them.
CREATE TABLE customers.private_remarks (
    tenant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    name text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, employee_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers.customers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE customers.favourites (
    tenant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, employee_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers.customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX favourites_employee ON customers.favourites (tenant_id, employee_id);

-- Pages routing reported (visitor.page_viewed); the id is derived from the event's outbox id, so
-- a redelivered event inserts nothing.
CREATE TABLE customers.page_views (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    customer_id uuid NOT NULL,
    url text NOT NULL,
    title text,
    referrer text,
    viewed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers.customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX page_views_customer ON customers.page_views (tenant_id, customer_id, viewed_at, id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['follow_ups', 'private_remarks', 'favourites', 'page_views'] LOOP
        EXECUTE format('ALTER TABLE customers.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE customers.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON customers.%I USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant())', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON customers.follow_ups, customers.private_remarks, customers.favourites,
    customers.page_views TO kefu_service;
