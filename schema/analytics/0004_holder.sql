-- Who holds a conversation now (live monitoring: the agent it was last assigned to, none while
-- it waits in a queue again), which differs from the agent it is credited to once a transfer
-- follows the first reply. Derived like the other columns: recompute_conversation now sets it
-- too, and every row is recomputed once here.
ALTER TABLE analytics.conversations ADD COLUMN holder_id uuid;

CREATE OR REPLACE FUNCTION analytics.recompute_conversation(conversation uuid) RETURNS void
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
            holder_id = CASE WHEN last_queued IS NOT NULL AND (last_assigned IS NULL OR last_queued > last_assigned)
                             THEN NULL ELSE last_agent END,
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

DO $recompute$
DECLARE r record;
BEGIN
    FOR r IN SELECT tenant_id, id FROM analytics.conversations LOOP
        PERFORM set_config('kefu.tenant_id', r.tenant_id::text, true);
        PERFORM analytics.recompute_conversation(r.id);
    END LOOP;
    PERFORM set_config('kefu.tenant_id', '', true);
END
$recompute$;

-- Widget analysis credits a conversation to the visitor's last click on its widget before it
-- started (its page and source): found by this index.
CREATE INDEX widget_events_visitor ON analytics.widget_events (tenant_id, widget_id, visitor_id, occurred_at) WHERE kind = 'click';
