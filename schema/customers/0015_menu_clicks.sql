-- Official-account menu buttons a customer pressed (routing's visitor.menu_clicked), for the
-- trail. As page_views: the id is derived from the event's outbox id, so a redelivery inserts
-- nothing; a merge moves them to the survivor.
CREATE TABLE customers.menu_clicks (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    customer_id uuid NOT NULL,
    channel_id uuid NOT NULL,
    key text NOT NULL,
    name text,
    clicked_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers.customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX menu_clicks_customer ON customers.menu_clicks (tenant_id, customer_id, clicked_at, id);
ALTER TABLE customers.menu_clicks ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers.menu_clicks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers.menu_clicks USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON customers.menu_clicks TO kefu_service;
