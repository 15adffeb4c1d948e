-- recompute_conversation in fewer statements (it runs after every event of a conversation, and
-- the benchmark's year of data is made through it): one aggregate per fact table, the first
-- human reply's sender taken with the message aggregate, and the reply looked up separately only
-- when a human message came before the response clock started. Same definitions, same results
-- (ReplayTests and DefinitionTests hold it to them).
CREATE OR REPLACE FUNCTION analytics.recompute_conversation(conversation uuid) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        tenant uuid := kefu.current_tenant();
        a record;
        q record;
        m record;
        response_start timestamptz;
        replier uuid;
        replied_at timestamptz;
        agents uuid[];
        quality text;
    BEGIN
        SELECT min(assigned_at) AS first_at, max(assigned_at) AS last_at,
               (array_agg(agent_id ORDER BY assigned_at DESC, agent_id DESC))[1] AS last_agent,
               (array_agg(group_id ORDER BY assigned_at DESC, agent_id DESC))[1] AS last_group,
               coalesce(array_agg(agent_id), '{}') AS agents
            INTO a FROM analytics.assignments WHERE tenant_id = tenant AND conversation_id = conversation;
        SELECT queued_at, group_id INTO q FROM analytics.queue_entries
            WHERE tenant_id = tenant AND conversation_id = conversation ORDER BY queued_at DESC LIMIT 1;
        SELECT count(*) FILTER (WHERE sender = 'visitor') AS visitors,
               count(*) FILTER (WHERE sender = 'agent' AND NOT automatic) AS humans,
               min(created_at) FILTER (WHERE sender = 'visitor') AS first_visitor,
               min(created_at) FILTER (WHERE sender = 'agent' AND NOT automatic) AS first_human,
               (array_agg(sender_id ORDER BY created_at, seq) FILTER (WHERE sender = 'agent' AND NOT automatic))[1] AS first_human_sender,
               max(created_at) FILTER (WHERE sender = 'visitor') AS last_visitor,
               max(created_at) AS last_message,
               coalesce(array_agg(sender_id) FILTER (WHERE sender = 'agent' AND NOT automatic AND sender_id IS NOT NULL), '{}') AS repliers
            INTO m FROM analytics.messages WHERE tenant_id = tenant AND conversation_id = conversation;
        IF a.first_at IS NOT NULL AND m.first_visitor IS NOT NULL THEN
            response_start := greatest(a.first_at, m.first_visitor);
            IF m.first_human >= response_start THEN
                replier := m.first_human_sender;
                replied_at := m.first_human;
            ELSIF m.first_human IS NOT NULL THEN
                SELECT sender_id, created_at INTO replier, replied_at FROM analytics.messages
                    WHERE tenant_id = tenant AND conversation_id = conversation AND sender = 'agent' AND NOT automatic
                      AND created_at >= response_start
                    ORDER BY created_at, seq LIMIT 1;
            END IF;
        END IF;
        SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') INTO agents FROM unnest(a.agents || m.repliers) AS x;
        quality := CASE
            WHEN m.visitors = 0 AND m.humans = 0 THEN 'silent'
            WHEN m.humans = 0 THEN 'unanswered'
            WHEN m.last_visitor IS NULL OR m.last_visitor <= m.first_human THEN 'customer_no_reply'
            ELSE 'normal' END;
        UPDATE analytics.conversations SET
            agent_id = coalesce(replier, a.last_agent),
            holder_id = CASE WHEN q.queued_at IS NOT NULL AND (a.last_at IS NULL OR q.queued_at > a.last_at)
                             THEN NULL ELSE a.last_agent END,
            agent_ids = agents,
            group_id = CASE WHEN q.queued_at IS NOT NULL AND (a.last_at IS NULL OR q.queued_at > a.last_at)
                            THEN q.group_id ELSE coalesce(a.last_group, q.group_id) END,
            first_assigned_at = a.first_at,
            last_assigned_at = a.last_at,
            last_queued_at = q.queued_at,
            first_response_agent_id = replier,
            first_response_ms = CASE WHEN replied_at IS NULL THEN NULL
                                     ELSE (extract(epoch FROM replied_at - response_start) * 1000)::bigint END,
            visitor_messages = m.visitors,
            agent_messages = m.humans,
            last_message_at = m.last_message,
            base_quality = quality
        WHERE tenant_id = tenant AND id = conversation;
    END
    $$;
