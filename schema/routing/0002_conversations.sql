-- Routing: visitors, agents' states, conversations, messages, assignment history and the queue.
-- Every table leads its keys with tenant_id and forces row-level security (policy below).

-- A browser on a widget (later also a channel user: an openid, a QQ number), known by the id in
-- its signed visitor token.
CREATE TABLE routing.visitors (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    widget_id uuid NOT NULL,
    -- What the page reported last: page URL and title, referrer, source, region, language, custom.
    attributes jsonb NOT NULL DEFAULT '{}',
    visit_count integer NOT NULL DEFAULT 1,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE routing.page_views (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    visitor_id uuid NOT NULL,
    url text NOT NULL,
    title text,
    referrer text,
    viewed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES routing.visitors (tenant_id, id)
);
CREATE INDEX page_views_visitor ON routing.page_views (tenant_id, visitor_id, viewed_at);

-- One row per employee routing knows (projected from accounts' employee events), with their
-- state. open_count is the agent's open conversations across all groups: assignment claims a
-- seat with a conditional UPDATE of this row, so a limit is never exceeded.
CREATE TABLE routing.agents (
    tenant_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    display_name text NOT NULL,
    department_id uuid,
    active boolean NOT NULL DEFAULT true,
    status text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'suspended', 'offline')),
    reception text NOT NULL DEFAULT 'on' CHECK (reception IN ('on', 'off')),
    status_since timestamptz NOT NULL DEFAULT now(),
    open_count integer NOT NULL DEFAULT 0 CHECK (open_count >= 0),
    -- Ties between equally loaded agents go to whoever waited longest since their last assignment.
    last_assigned_at timestamptz,
    PRIMARY KEY (tenant_id, employee_id)
);

-- The department tree (from accounts' department events): supervisors whose organisation scope is
-- "my department" see the agents of their department and below.
CREATE TABLE routing.departments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    parent_id uuid,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE routing.conversations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    visitor_id uuid NOT NULL,
    widget_id uuid,
    channel text NOT NULL DEFAULT 'web',
    status text NOT NULL CHECK (status IN ('queued', 'open', 'awaiting_message', 'with_bot', 'ended')),
    agent_id uuid,
    group_id uuid,
    queued_at timestamptz,
    assigned_at timestamptz,
    ended_at timestamptz,
    end_reason text,
    -- The per-conversation message counter: a message takes last_seq + 1 in the transaction that
    -- stores it, so order is total and gap-free.
    last_seq bigint NOT NULL DEFAULT 0,
    last_message_at timestamptz,
    topic text,
    resolved boolean,
    rating jsonb,
    -- How it was routed, step by step: guide rule, assignment rule / owner / widget target, and
    -- why each candidate agent was or was not taken.
    routing_trace jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES routing.visitors (tenant_id, id),
    -- Open: held by an agent; waiting states: held by nobody; ended: keeps its last agent.
    CHECK (status <> 'open' OR agent_id IS NOT NULL),
    CHECK (status NOT IN ('queued', 'awaiting_message', 'with_bot') OR agent_id IS NULL),
    CHECK (status <> 'queued' OR (group_id IS NOT NULL AND queued_at IS NOT NULL))
);
-- A visitor has at most one live conversation: starting again returns it.
CREATE UNIQUE INDEX conversations_live_per_visitor ON routing.conversations (tenant_id, visitor_id) WHERE status <> 'ended';
-- The queue: per group, longest waiting first.
CREATE INDEX conversations_queue ON routing.conversations (tenant_id, group_id, queued_at, id) WHERE status = 'queued';
CREATE INDEX conversations_agent ON routing.conversations (tenant_id, agent_id, status);
CREATE INDEX conversations_recent ON routing.conversations (tenant_id, last_message_at DESC NULLS LAST, id);

CREATE TABLE routing.messages (
    tenant_id uuid NOT NULL,
    conversation_id uuid NOT NULL,
    seq bigint NOT NULL,
    id uuid NOT NULL,
    sender text NOT NULL CHECK (sender IN ('visitor', 'agent', 'bot', 'system')),
    sender_id uuid,
    -- The client's own id: a retry with the same one stores nothing twice.
    client_message_id text,
    body jsonb NOT NULL,
    -- Guide-rule pushes and automatic replies, which are nobody's answer.
    automatic boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, conversation_id, seq),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES routing.conversations (tenant_id, id)
);
CREATE UNIQUE INDEX messages_client_id ON routing.messages (tenant_id, conversation_id, sender, client_message_id)
    WHERE client_message_id IS NOT NULL;

-- Who owns each customer, by the web visitors known to be them (from the customer library's
-- customer.owner_changed): "owner first" assignment.
CREATE TABLE routing.customer_owners (
    tenant_id uuid NOT NULL,
    visitor_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    owner_id uuid,
    PRIMARY KEY (tenant_id, visitor_id)
);

-- Every change of who holds a conversation.
CREATE TABLE routing.assignments (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id uuid NOT NULL,
    agent_id uuid,
    group_id uuid,
    reason text NOT NULL,
    previous_agent_id uuid,
    note text,
    by_employee uuid,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES routing.conversations (tenant_id, id)
);
CREATE INDEX assignments_conversation ON routing.assignments (tenant_id, conversation_id, id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['visitors', 'page_views', 'agents', 'departments', 'conversations', 'messages', 'customer_owners', 'assignments'] LOOP
        EXECUTE format('ALTER TABLE routing.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE routing.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON routing.%I USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant())', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE ON routing.visitors, routing.agents, routing.conversations TO kefu_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON routing.departments, routing.customer_owners TO kefu_service;
-- Messages, page views and the assignment history are facts: appended, never changed.
GRANT SELECT, INSERT ON routing.messages, routing.page_views, routing.assignments TO kefu_service;
