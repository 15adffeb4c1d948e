-- Analytics' facts and the rows its questions read (docs/ANALYTICS.md). Everything here is
-- written by one function, analytics.apply_events, called by the durable consumer
-- `analytics.facts` with routing's, accounts' and the customer library's events — and by the
-- benchmark's generator, so that the figures measured are the figures the consumer makes.
--
-- Facts are stored under their natural keys (a message id, an assignment's agent and time, a
-- state change's agent and time), so a redelivered or re-published event adds nothing. What a
-- conversation row says about itself (agents, first response, quality, counts) is recomputed
-- from its stored facts after every event that concerns it: the result depends on the set of
-- facts only, never on the order they arrived in, so late, repeated and out-of-order events leave
-- it equal to a recomputation from scratch (analytics.recompute_conversation).

-- One row per conversation. The first columns are facts from routing's events; the rest are
-- derived by recompute_conversation. A row can exist before its conversation.created arrived (a
-- message delivered first): started_at is null until then and lists skip it.
CREATE TABLE analytics.conversations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    -- facts
    visitor_id uuid,
    widget_id uuid,
    channel text,
    started_at timestamptz,
    ended_at timestamptz,
    end_reason text,
    topic text,
    topic_set_at timestamptz,
    resolved boolean,
    resolved_set_at timestamptz,
    rating_stars integer,
    rating_labels text[] NOT NULL DEFAULT '{}',
    rating_solved boolean,
    rated_at timestamptz,
    -- derived from the facts (recompute_conversation)
    agent_id uuid,
    agent_ids uuid[] NOT NULL DEFAULT '{}',
    group_id uuid,
    first_assigned_at timestamptz,
    last_assigned_at timestamptz,
    last_queued_at timestamptz,
    first_response_agent_id uuid,
    first_response_ms bigint,
    visitor_messages integer NOT NULL DEFAULT 0,
    agent_messages integer NOT NULL DEFAULT 0,
    last_message_at timestamptz,
    -- unanswered | customer_no_reply | silent | normal; high-quality is decided when read, from
    -- reception's current definition (a changed definition needs no rewrite of a year of rows).
    base_quality text NOT NULL DEFAULT 'silent',
    PRIMARY KEY (tenant_id, id)
);
-- Records newest first (keyset on started_at, id), and per-agent reports over a period.
CREATE INDEX conversations_started ON analytics.conversations (tenant_id, started_at DESC, id DESC);
CREATE INDEX conversations_agent ON analytics.conversations (tenant_id, agent_id, started_at);
CREATE INDEX conversations_visitor ON analytics.conversations (tenant_id, visitor_id, started_at);
-- Live monitoring reads the conversations not yet ended.
CREATE INDEX conversations_open ON analytics.conversations (tenant_id, started_at) WHERE ended_at IS NULL;

CREATE TABLE analytics.assignments (
    tenant_id uuid NOT NULL,
    conversation_id uuid NOT NULL,
    assigned_at timestamptz NOT NULL,
    agent_id uuid NOT NULL,
    group_id uuid,
    reason text NOT NULL,
    previous_agent_id uuid,
    PRIMARY KEY (tenant_id, conversation_id, assigned_at, agent_id)
);

CREATE TABLE analytics.queue_entries (
    tenant_id uuid NOT NULL,
    conversation_id uuid NOT NULL,
    queued_at timestamptz NOT NULL,
    group_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, queued_at)
);

-- Every message's facts (the first response and quality are recomputed from them), with its
-- text for the 90-day message search (trigram index below, read through the search door).
CREATE TABLE analytics.messages (
    tenant_id uuid NOT NULL,
    conversation_id uuid NOT NULL,
    message_id uuid NOT NULL,
    seq bigint NOT NULL,
    sender text NOT NULL,
    sender_id uuid,
    automatic boolean NOT NULL,
    text text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, message_id)
);
CREATE INDEX messages_created ON analytics.messages (tenant_id, created_at DESC);

-- Each agent.state_changed, keyed by agent and time: an agent's state at any moment is the last
-- change before it, so online and reception-on durations are intervals between changes,
-- computed when asked (a late change simply splits an interval).
CREATE TABLE analytics.agent_states (
    tenant_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    changed_at timestamptz NOT NULL,
    status text NOT NULL,
    reception text NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, changed_at)
);

-- Accounts' employees and departments (names for the reports; departments for data scope).
CREATE TABLE analytics.agents (
    tenant_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    display_name text NOT NULL DEFAULT '',
    department_id uuid,
    status text NOT NULL DEFAULT 'active',
    PRIMARY KEY (tenant_id, employee_id)
);
CREATE TABLE analytics.departments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    parent_id uuid,
    PRIMARY KEY (tenant_id, id)
);

-- Where a visitor came from (visitor.seen's page attributes), for analysis by region and source.
CREATE TABLE analytics.visitors (
    tenant_id uuid NOT NULL,
    visitor_id uuid NOT NULL,
    region text,
    source text,
    first_seen_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, visitor_id)
);

-- Which customer a web visitor is, as the customer library says (customer.owner_changed and
-- customer.merged name a customer's visitors): records filter by customer through it.
CREATE TABLE analytics.customer_visitors (
    tenant_id uuid NOT NULL,
    visitor_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, visitor_id)
);
CREATE INDEX customer_visitors_customer ON analytics.customer_visitors (tenant_id, customer_id);

DO $rls$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['conversations', 'assignments', 'queue_entries', 'messages', 'agent_states', 'agents',
                             'departments', 'visitors', 'customer_visitors'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE analytics.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON analytics.%I TO kefu_service', t);
    END LOOP;
END
$rls$;

-- A conversation's derived columns from its stored facts, whatever order they arrived in.
-- Definitions (docs/ANALYTICS.md): human agent messages are sender 'agent' and not automatic;
-- bot, system, automatic replies and guide-rule pushes never count. The first response runs
-- from the later of the first assignment and the first visitor message to the first human agent
-- message at or after it, and is credited to its sender. The conversation is credited to that
-- replier, else to the last agent assigned; every agent assigned or replying is in agent_ids.
CREATE FUNCTION analytics.recompute_conversation(conversation uuid) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        tenant uuid := kefu.current_tenant();
        first_assigned timestamptz;
        last_assigned timestamptz;
        last_agent uuid;
        last_group uuid;
        last_queued timestamptz;
        queued_group uuid;
        visitors integer;
        humans integer;
        first_visitor timestamptz;
        first_human timestamptz;
        last_visitor timestamptz;
        last_message timestamptz;
        response_start timestamptz;
        replier uuid;
        replied_at timestamptz;
        agents uuid[];
        quality text;
    BEGIN
        SELECT min(assigned_at), max(assigned_at) INTO first_assigned, last_assigned
            FROM analytics.assignments WHERE tenant_id = tenant AND conversation_id = conversation;
        SELECT agent_id, group_id INTO last_agent, last_group FROM analytics.assignments
            WHERE tenant_id = tenant AND conversation_id = conversation ORDER BY assigned_at DESC, agent_id DESC LIMIT 1;
        SELECT queued_at, group_id INTO last_queued, queued_group FROM analytics.queue_entries
            WHERE tenant_id = tenant AND conversation_id = conversation ORDER BY queued_at DESC LIMIT 1;
        SELECT count(*) FILTER (WHERE sender = 'visitor'),
               count(*) FILTER (WHERE sender = 'agent' AND NOT automatic),
               min(created_at) FILTER (WHERE sender = 'visitor'),
               min(created_at) FILTER (WHERE sender = 'agent' AND NOT automatic),
               max(created_at) FILTER (WHERE sender = 'visitor'),
               max(created_at)
            INTO visitors, humans, first_visitor, first_human, last_visitor, last_message
            FROM analytics.messages WHERE tenant_id = tenant AND conversation_id = conversation;
        IF first_assigned IS NOT NULL AND first_visitor IS NOT NULL THEN
            response_start := greatest(first_assigned, first_visitor);
            SELECT sender_id, created_at INTO replier, replied_at FROM analytics.messages
                WHERE tenant_id = tenant AND conversation_id = conversation AND sender = 'agent' AND NOT automatic
                  AND created_at >= response_start
                ORDER BY created_at, seq LIMIT 1;
        END IF;
        SELECT coalesce(array_agg(DISTINCT a ORDER BY a), '{}') INTO agents FROM (
            SELECT agent_id AS a FROM analytics.assignments WHERE tenant_id = tenant AND conversation_id = conversation
            UNION SELECT sender_id FROM analytics.messages
                WHERE tenant_id = tenant AND conversation_id = conversation AND sender = 'agent' AND NOT automatic AND sender_id IS NOT NULL
        ) involved;
        quality := CASE
            WHEN visitors = 0 AND humans = 0 THEN 'silent'
            WHEN humans = 0 THEN 'unanswered'
            WHEN last_visitor IS NULL OR last_visitor <= first_human THEN 'customer_no_reply'
            ELSE 'normal' END;
        UPDATE analytics.conversations SET
            agent_id = coalesce(replier, last_agent),
            agent_ids = agents,
            group_id = CASE WHEN last_queued IS NOT NULL AND (last_assigned IS NULL OR last_queued > last_assigned)
                            THEN queued_group ELSE coalesce(last_group, queued_group) END,
            first_assigned_at = first_assigned,
            last_assigned_at = last_assigned,
            last_queued_at = last_queued,
            first_response_agent_id = replier,
            first_response_ms = CASE WHEN replied_at IS NULL THEN NULL
                                     ELSE (extract(epoch FROM replied_at - response_start) * 1000)::bigint END,
            visitor_messages = visitors,
            agent_messages = humans,
            last_message_at = last_message,
            base_quality = quality
        WHERE tenant_id = tenant AND id = conversation;
    END
    $$;

-- Applies events (types and JSON payloads as published) in the transaction's tenant: stores
-- their facts idempotently, then recomputes each conversation they touched once.
CREATE FUNCTION analytics.apply_events(types text[], payloads jsonb[]) RETURNS integer
    LANGUAGE plpgsql AS $$
    DECLARE
        tenant uuid := kefu.current_tenant();
        touched uuid[] := '{}';
        conversation uuid;
        p jsonb;
        i integer;
    BEGIN
        IF tenant IS NULL THEN RAISE EXCEPTION 'analytics.apply_events needs kefu.tenant_id'; END IF;
        FOR i IN 1 .. coalesce(array_length(types, 1), 0) LOOP
            p := payloads[i];
            conversation := NULL;
            IF types[i] IN ('conversation.created', 'conversation.queued', 'conversation.assigned', 'message.created',
                            'conversation.ended', 'conversation.updated', 'satisfaction.rated') THEN
                conversation := (p->>'conversation_id')::uuid;
                INSERT INTO analytics.conversations (tenant_id, id) VALUES (tenant, conversation) ON CONFLICT DO NOTHING;
                touched := touched || conversation;
            END IF;
            CASE types[i]
            WHEN 'conversation.created' THEN
                UPDATE analytics.conversations SET visitor_id = (p->>'visitor_id')::uuid, widget_id = (p->>'widget_id')::uuid,
                    channel = p->>'channel', started_at = (p->>'created_at')::timestamptz
                WHERE tenant_id = tenant AND id = conversation;
            WHEN 'conversation.queued' THEN
                INSERT INTO analytics.queue_entries (tenant_id, conversation_id, queued_at, group_id)
                VALUES (tenant, conversation, (p->>'queued_at')::timestamptz, (p->>'group_id')::uuid) ON CONFLICT DO NOTHING;
            WHEN 'conversation.assigned' THEN
                INSERT INTO analytics.assignments (tenant_id, conversation_id, assigned_at, agent_id, group_id, reason, previous_agent_id)
                VALUES (tenant, conversation, (p->>'assigned_at')::timestamptz, (p->>'agent_id')::uuid, (p->>'group_id')::uuid,
                        p->>'reason', (p->>'previous_agent_id')::uuid)
                ON CONFLICT DO NOTHING;
            WHEN 'message.created' THEN
                INSERT INTO analytics.messages (tenant_id, conversation_id, message_id, seq, sender, sender_id, automatic, text, created_at)
                VALUES (tenant, conversation, (p->>'message_id')::uuid, (p->>'seq')::bigint, p->>'sender', (p->>'sender_id')::uuid,
                        coalesce((p->>'automatic')::boolean, false), p->'body'->>'text', (p->>'created_at')::timestamptz)
                ON CONFLICT DO NOTHING;
            WHEN 'conversation.ended' THEN
                -- The earliest end wins, so a redelivery or a second end changes nothing.
                UPDATE analytics.conversations SET ended_at = (p->>'ended_at')::timestamptz, end_reason = p->>'reason'
                WHERE tenant_id = tenant AND id = conversation AND (ended_at IS NULL OR ended_at > (p->>'ended_at')::timestamptz);
            WHEN 'conversation.updated' THEN
                -- Topic and status: the latest setting wins, by its own time.
                UPDATE analytics.conversations SET topic = p->>'topic', topic_set_at = (p->>'updated_at')::timestamptz
                WHERE tenant_id = tenant AND id = conversation AND p->>'topic' IS NOT NULL
                  AND (topic_set_at IS NULL OR topic_set_at <= (p->>'updated_at')::timestamptz);
                UPDATE analytics.conversations SET resolved = (p->>'resolved')::boolean, resolved_set_at = (p->>'updated_at')::timestamptz
                WHERE tenant_id = tenant AND id = conversation AND p->>'resolved' IS NOT NULL
                  AND (resolved_set_at IS NULL OR resolved_set_at <= (p->>'updated_at')::timestamptz);
            WHEN 'satisfaction.rated' THEN
                UPDATE analytics.conversations SET rating_stars = (p->>'stars')::integer,
                    rating_labels = coalesce(ARRAY(SELECT jsonb_array_elements_text(p->'labels')), '{}'),
                    rating_solved = (p->>'solved')::boolean, rated_at = (p->>'rated_at')::timestamptz
                WHERE tenant_id = tenant AND id = conversation AND (rated_at IS NULL OR rated_at <= (p->>'rated_at')::timestamptz);
            WHEN 'agent.state_changed' THEN
                INSERT INTO analytics.agent_states (tenant_id, agent_id, changed_at, status, reception)
                VALUES (tenant, (p->>'agent_id')::uuid, (p->>'changed_at')::timestamptz, p->>'status', p->>'reception')
                ON CONFLICT DO NOTHING;
            WHEN 'employee.created', 'employee.updated', 'employee.status_changed' THEN
                INSERT INTO analytics.agents (tenant_id, employee_id, display_name, department_id, status)
                VALUES (tenant, (p->'employee'->>'employee_id')::uuid, coalesce(p->'employee'->>'display_name', ''),
                        (p->'employee'->>'department_id')::uuid, coalesce(p->'employee'->>'status', 'active'))
                ON CONFLICT (tenant_id, employee_id) DO UPDATE SET display_name = excluded.display_name,
                    department_id = excluded.department_id, status = excluded.status;
            WHEN 'department.changed' THEN
                IF (p->>'exists')::boolean THEN
                    INSERT INTO analytics.departments (tenant_id, id, parent_id)
                    VALUES (tenant, (p->>'department_id')::uuid, (p->>'parent_id')::uuid)
                    ON CONFLICT (tenant_id, id) DO UPDATE SET parent_id = excluded.parent_id;
                ELSE
                    DELETE FROM analytics.departments WHERE tenant_id = tenant AND id = (p->>'department_id')::uuid;
                END IF;
            WHEN 'visitor.seen' THEN
                INSERT INTO analytics.visitors (tenant_id, visitor_id, region, source, first_seen_at)
                VALUES (tenant, (p->>'visitor_id')::uuid, nullif(p->'attributes'->>'region', ''), nullif(p->'attributes'->>'source', ''),
                        (p->>'seen_at')::timestamptz)
                ON CONFLICT (tenant_id, visitor_id) DO UPDATE SET
                    region = coalesce(CASE WHEN excluded.first_seen_at < analytics.visitors.first_seen_at THEN excluded.region END,
                                      analytics.visitors.region, excluded.region),
                    source = coalesce(CASE WHEN excluded.first_seen_at < analytics.visitors.first_seen_at THEN excluded.source END,
                                      analytics.visitors.source, excluded.source),
                    first_seen_at = least(analytics.visitors.first_seen_at, excluded.first_seen_at);
            WHEN 'customer.owner_changed' THEN
                INSERT INTO analytics.customer_visitors (tenant_id, visitor_id, customer_id)
                SELECT tenant, v::uuid, (p->>'customer_id')::uuid FROM jsonb_array_elements_text(p->'visitor_ids') v
                ON CONFLICT (tenant_id, visitor_id) DO UPDATE SET customer_id = excluded.customer_id;
            WHEN 'customer.merged' THEN
                INSERT INTO analytics.customer_visitors (tenant_id, visitor_id, customer_id)
                SELECT tenant, v::uuid, (p->>'survivor_id')::uuid FROM jsonb_array_elements_text(p->'visitor_ids') v
                ON CONFLICT (tenant_id, visitor_id) DO UPDATE SET customer_id = excluded.customer_id;
                UPDATE analytics.customer_visitors SET customer_id = (p->>'survivor_id')::uuid
                WHERE tenant_id = tenant AND customer_id IN (SELECT (jsonb_array_elements_text(p->'merged_ids'))::uuid);
            ELSE
                NULL;
            END CASE;
        END LOOP;
        FOR conversation IN SELECT DISTINCT unnest(touched) LOOP
            PERFORM analytics.recompute_conversation(conversation);
        END LOOP;
        RETURN coalesce(array_length(types, 1), 0);
    END
    $$;
GRANT EXECUTE ON FUNCTION analytics.recompute_conversation(uuid) TO kefu_service;
GRANT EXECUTE ON FUNCTION analytics.apply_events(text[], jsonb[]) TO kefu_service;
