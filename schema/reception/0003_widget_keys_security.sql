-- Widget keys stay readable by anyone (an anonymous visitor's script names a key before any
-- tenant is known, and a key is public: it is embedded in the tenant's web pages), but a
-- transaction writes and deletes only its own tenant's keys: without a tenant the serving role
-- can neither empty the table nor point a key at another tenant's widget.
ALTER TABLE reception.widget_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE reception.widget_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY anyone_reads ON reception.widget_keys FOR SELECT USING (true);
CREATE POLICY tenant_inserts ON reception.widget_keys FOR INSERT WITH CHECK (tenant_id = kefu.current_tenant());
CREATE POLICY tenant_deletes ON reception.widget_keys FOR DELETE USING (tenant_id = kefu.current_tenant());
-- A widget id is unique within its tenant (it is the tenant's row): a global constraint let one
-- tenant learn, by a failed insert, whether another tenant has a widget with a given id.
ALTER TABLE reception.widget_keys DROP CONSTRAINT widget_keys_widget_id_key;
ALTER TABLE reception.widget_keys ADD UNIQUE (tenant_id, widget_id);
