-- The customer library (DOMAIN.md §4): customers and contacts, their identities, the receptions
-- routing reported, the employees accounts reported, and the tenant's custom fields. Every table
-- leads its keys with tenant_id and forces row-level security (policy below).

-- One row per customer, or per contact (entered = false) until an agent or an entry rule adds it
-- to the library. Phones and emails are arrays with the primary one first: a customer has
-- several of each, one primary, and a GIN index finds a customer by any of them. Custom field
-- values are one jsonb object keyed by api_name: the service role may not create indexes when an
-- admin defines a field, so one GIN index (jsonb_path_ops) serves equality and containment on
-- every custom field at once; range conditions filter the rows the other conditions found.
CREATE TABLE customers.customers (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    entered boolean NOT NULL DEFAULT false,
    entered_at timestamptz,
    name text,
    gender text CHECK (gender IN ('male', 'female', 'unknown')),
    age integer CHECK (age BETWEEN 0 AND 150),
    birthday date,
    education text,
    region text,
    address text,
    company text,
    title text,
    phones text[] NOT NULL DEFAULT '{}',
    emails text[] NOT NULL DEFAULT '{}',
    status text,
    tags text[] NOT NULL DEFAULT '{}',
    remark text,
    source text,
    follow_up_status text,
    funnel_stage text,
    value_score integer NOT NULL DEFAULT 0,
    custom jsonb NOT NULL DEFAULT '{}',
    -- Ownership: an employee and/or a team (a reception group). Neither: the company pool; a team
    -- but no employee: that team's pool.
    owner_id uuid,
    owner_team_id uuid,
    -- What routing reported: conversations received, the last one's start, visits.
    reception_count integer NOT NULL DEFAULT 0,
    last_reception_at timestamptz,
    visit_count integer NOT NULL DEFAULT 0,
    last_seen_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- The default list (newest first) and the ownership lookups (my customers, a team's pool,
-- a handover of one employee's customers).
CREATE INDEX customers_created ON customers.customers (tenant_id, created_at DESC, id DESC);
CREATE INDEX customers_owner ON customers.customers (tenant_id, owner_id, created_at DESC, id DESC);
CREATE INDEX customers_team ON customers.customers (tenant_id, owner_team_id, created_at DESC, id DESC);
CREATE INDEX customers_custom ON customers.customers USING gin (custom jsonb_path_ops);
CREATE INDEX customers_tags ON customers.customers USING gin (tags);
CREATE INDEX customers_phones ON customers.customers USING gin (phones);

-- How a customer is known on each channel. An external id is unique per tenant, kind and channel
-- (the official account for an openid, the partner channel for a partner id; '' when the kind
-- needs none): the same person can never be two customers on one channel, and two different
-- ids of one channel are never taken for the same person.
CREATE TABLE customers.identities (
    tenant_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('web_visitor', 'wechat_openid', 'wechat_unionid', 'qq', 'phone', 'email', 'partner')),
    channel text NOT NULL DEFAULT '',
    external_id text NOT NULL,
    customer_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kind, channel, external_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers.customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX identities_customer ON customers.identities (tenant_id, customer_id);

-- Each conversation routing reported, once: the reception count is the number of these rows, so
-- an event delivered twice counts once.
CREATE TABLE customers.receptions (
    tenant_id uuid NOT NULL,
    conversation_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    channel text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    PRIMARY KEY (tenant_id, conversation_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers.customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX receptions_customer ON customers.receptions (tenant_id, customer_id, started_at);

-- The tenant's employees as accounts reports them (employee.* events): owners must be active
-- employees.
CREATE TABLE customers.employees (
    tenant_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    display_name text NOT NULL,
    status text NOT NULL,
    PRIMARY KEY (tenant_id, employee_id)
);

-- Custom fields (客户库自定义字段). The api_name is the key of the value in customers.custom and
-- in rules (`custom.<api_name>`): unique in the tenant and never changed.
CREATE TABLE customers.fields (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    api_name text NOT NULL,
    display_name text NOT NULL,
    type text NOT NULL CHECK (type IN ('short_text', 'long_text', 'number', 'date', 'date_time', 'single_choice', 'multiple_choice', 'employee')),
    choices text[],
    required boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, api_name)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'identities', 'receptions', 'employees', 'fields'] LOOP
        EXECUTE format('ALTER TABLE customers.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE customers.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON customers.%I USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant())', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON customers.customers, customers.identities, customers.receptions,
    customers.employees, customers.fields TO kefu_service;
