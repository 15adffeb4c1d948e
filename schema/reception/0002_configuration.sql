-- Reception configuration (DOMAIN.md §2). Every configured thing (channel, material, widget,
-- group, guide rule, assignment rule, quick reply) is one row of config_items: its validated
-- document as jsonb, plus the few columns the database itself must enforce or sort on. Routing
-- reads the whole set at once (the snapshot), so one table with one shape keeps that one query.
CREATE TABLE reception.config_items (
    tenant_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('channel', 'material', 'widget', 'group', 'guide_rule',
                                       'assignment_rule', 'quick_reply', 'personal_quick_reply')),
    id uuid NOT NULL,
    -- Unique per kind where set (names admins pick between); null for unnamed kinds.
    name text,
    -- Order of evaluation for rules (first match wins); creation order elsewhere.
    position integer NOT NULL DEFAULT 0,
    -- The employee a personal quick reply belongs to.
    owner_id uuid,
    -- The kind's sub-type where the database counts it (channel type: 20 official accounts).
    subtype text,
    body jsonb NOT NULL,
    -- Channel credentials, encrypted with SecretBox (KEFU_SECRETS_KEY_FILE); never in `body`.
    sealed_credentials text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX config_items_name ON reception.config_items (tenant_id, kind, lower(name)) WHERE name IS NOT NULL;
CREATE INDEX config_items_kind ON reception.config_items (tenant_id, kind, position, created_at);
ALTER TABLE reception.config_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE reception.config_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reception.config_items
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON reception.config_items TO kefu_service;

-- Tenant-wide settings documents (no-agent fallback, conversation settings, assignment settings,
-- satisfaction survey): one row per key, absent until first written (defaults apply).
CREATE TABLE reception.settings (
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    body jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
ALTER TABLE reception.settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE reception.settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reception.settings
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON reception.settings TO kefu_service;

-- The configuration version of each tenant: bumped in the same transaction as every write, so a
-- routing replica holding version N knows exactly whether it is current.
CREATE TABLE reception.versions (
    tenant_id uuid NOT NULL PRIMARY KEY,
    version bigint NOT NULL
);
ALTER TABLE reception.versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE reception.versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reception.versions
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE ON reception.versions TO kefu_service;

-- Employees as reception knows them, projected from the accounts events: group members and
-- agent targets are checked against it, and disabled or deleted employees leave groups.
CREATE TABLE reception.agents (
    tenant_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    display_name text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'disabled', 'deleted')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, employee_id)
);
ALTER TABLE reception.agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE reception.agents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reception.agents
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE ON reception.agents TO kefu_service;

-- Customer custom fields (by API name) that rules may test, projected from the customer
-- library's customer_field.changed events.
CREATE TABLE reception.custom_fields (
    tenant_id uuid NOT NULL,
    api_name text NOT NULL,
    type text NOT NULL,
    choices text[],
    PRIMARY KEY (tenant_id, api_name)
);
ALTER TABLE reception.custom_fields ENABLE ROW LEVEL SECURITY;
ALTER TABLE reception.custom_fields FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reception.custom_fields
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON reception.custom_fields TO kefu_service;

-- Widget public keys are looked up by anonymous visitors, before any tenant is known: a global
-- table holding nothing but the key and where it points.
CREATE TABLE reception.widget_keys (
    public_key text PRIMARY KEY,
    tenant_id uuid NOT NULL,
    widget_id uuid NOT NULL UNIQUE
);
GRANT SELECT, INSERT, DELETE ON reception.widget_keys TO kefu_service;
