-- Accounts: tenants, organisation, roles, credentials, sessions, API keys, webhooks, audit log.
-- Every table: tenant_id leads the primary key and every unique and foreign key; row-level
-- security forced with the tenant policy.

CREATE TABLE accounts.tenants (
    tenant_id uuid PRIMARY KEY,
    -- Signs in with it; unique across all tenants by nature (it names the tenant).
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    seat_limit integer NOT NULL CHECK (seat_limit >= 1),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts.departments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    parent_id uuid,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES accounts.departments (tenant_id, id),
    FOREIGN KEY (tenant_id) REFERENCES accounts.tenants (tenant_id)
);
CREATE UNIQUE INDEX departments_sibling_names ON accounts.departments
    (tenant_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name));

CREATE TABLE accounts.employees (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    account text NOT NULL CHECK (account ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$'),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 50),
    department_id uuid,
    position text,
    phone text,
    email text,
    avatar_url text,
    hide_phone boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
    password_hash text NOT NULL,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES accounts.departments (tenant_id, id),
    FOREIGN KEY (tenant_id) REFERENCES accounts.tenants (tenant_id)
);
-- Account names are unique per tenant, case-insensitively, among employees not deleted.
CREATE UNIQUE INDEX employees_account ON accounts.employees (tenant_id, lower(account)) WHERE status <> 'deleted';
CREATE INDEX employees_department ON accounts.employees (tenant_id, department_id);

CREATE TABLE accounts.roles (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 10),
    -- super_admin: built in, immutable; template: created with the tenant, editable; custom.
    kind text NOT NULL CHECK (kind IN ('super_admin', 'template', 'custom')),
    permissions text[] NOT NULL DEFAULT '{}',
    customer_scopes text[] NOT NULL DEFAULT '{}',
    organisation_scope text NOT NULL DEFAULT 'my_department' CHECK (organisation_scope IN ('company', 'my_department')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id) REFERENCES accounts.tenants (tenant_id)
);
CREATE UNIQUE INDEX roles_name ON accounts.roles (tenant_id, lower(name));
CREATE UNIQUE INDEX roles_one_super_admin ON accounts.roles (tenant_id) WHERE kind = 'super_admin';

CREATE TABLE accounts.employee_roles (
    tenant_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    role_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, employee_id, role_id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES accounts.employees (tenant_id, id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES accounts.roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX employee_roles_role ON accounts.employee_roles (tenant_id, role_id);

-- Refresh tokens rotate: each use replaces the token with a new one of the same family; a
-- rotated token presented again means it was stolen, and the whole family is revoked.
CREATE TABLE accounts.refresh_tokens (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    family_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    secret_hash bytea NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES accounts.employees (tenant_id, id)
);
CREATE INDEX refresh_tokens_family ON accounts.refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_employee ON accounts.refresh_tokens (tenant_id, employee_id) WHERE revoked_at IS NULL;

-- Failed sign-ins per account name (existing or not, so that lockout reveals nothing).
CREATE TABLE accounts.login_failures (
    tenant_id uuid NOT NULL,
    account_key text NOT NULL,
    failures integer NOT NULL DEFAULT 0,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    PRIMARY KEY (tenant_id, account_key),
    FOREIGN KEY (tenant_id) REFERENCES accounts.tenants (tenant_id)
);

-- One-time codes sent by SMS: the second factor at sign-in and "forgot password".
CREATE TABLE accounts.phone_challenges (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    employee_id uuid NOT NULL,
    purpose text NOT NULL CHECK (purpose IN ('login', 'password_reset')),
    code_hash bytea NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL,
    consumed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES accounts.employees (tenant_id, id)
);

CREATE TABLE accounts.api_keys (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    secret_hash bytea NOT NULL,
    permissions text[] NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts.employees (tenant_id, id)
);

CREATE TABLE accounts.webhooks (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    url text NOT NULL,
    event_types text[] NOT NULL,
    secret text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id) REFERENCES accounts.tenants (tenant_id)
);

-- Append-only: the serving role may insert and read, never update or delete.
CREATE TABLE accounts.audit_log (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_type text NOT NULL CHECK (actor_type IN ('employee', 'api_key', 'platform', 'anonymous')),
    actor_id uuid,
    action text NOT NULL,
    target_type text,
    target_id text,
    before jsonb,
    after jsonb,
    ip text,
    request_id text,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_at ON accounts.audit_log (tenant_id, at DESC, id DESC);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'departments', 'employees', 'roles', 'employee_roles', 'refresh_tokens',
                             'login_failures', 'phone_challenges', 'api_keys', 'webhooks', 'audit_log'] LOOP
        EXECUTE format('ALTER TABLE accounts.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE accounts.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON accounts.%I USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant())', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE ON accounts.tenants, accounts.departments, accounts.employees, accounts.roles,
    accounts.refresh_tokens, accounts.login_failures, accounts.phone_challenges, accounts.api_keys, accounts.webhooks
    TO kefu_service;
GRANT DELETE ON accounts.departments, accounts.roles, accounts.employee_roles, accounts.webhooks, accounts.login_failures
    TO kefu_service;
GRANT SELECT, INSERT ON accounts.employee_roles, accounts.audit_log TO kefu_service;

-- Sign-in names a tenant by slug before any tenant is set; the platform operator lists all
-- tenants. These are the only cross-tenant reads, each a narrow SECURITY DEFINER function.
CREATE FUNCTION accounts.tenant_by_slug(p_slug text)
    RETURNS TABLE (tenant_id uuid, status text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT t.tenant_id, t.status FROM accounts.tenants t WHERE t.slug = lower(p_slug) $$;

CREATE FUNCTION accounts.platform_tenants(p_after_slug text, p_limit integer)
    RETURNS TABLE (tenant_id uuid, slug text, name text, seat_limit integer, status text, created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT t.tenant_id, t.slug, t.name, t.seat_limit, t.status, t.created_at FROM accounts.tenants t
          WHERE p_after_slug IS NULL OR t.slug > p_after_slug ORDER BY t.slug LIMIT p_limit $$;

REVOKE ALL ON FUNCTION accounts.tenant_by_slug(text), accounts.platform_tenants(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION accounts.tenant_by_slug(text), accounts.platform_tenants(text, integer) TO kefu_service;
