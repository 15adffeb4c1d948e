-- Durable timers: guide-rule pushes, conversation timeouts, queue maximum waits. A timer is a row
-- with a due time; any replica claims a due one with FOR UPDATE SKIP LOCKED in the transaction
-- that applies its effect and deletes it, so a crash neither loses nor repeats one.
CREATE TABLE routing.timers (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('guide_push', 'conversation_timeout', 'queue_wait')),
    conversation_id uuid NOT NULL,
    due_at timestamptz NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES routing.conversations (tenant_id, id)
);
CREATE INDEX timers_due ON routing.timers (due_at);
CREATE INDEX timers_conversation ON routing.timers (tenant_id, conversation_id);
-- One timeout and one queue wait per conversation (rescheduled in place).
CREATE UNIQUE INDEX timers_one_per_kind ON routing.timers (tenant_id, conversation_id, kind) WHERE kind <> 'guide_push';
ALTER TABLE routing.timers ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing.timers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing.timers
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON routing.timers TO kefu_service;

-- Which timers are due, across tenants: the timer worker's one door, for the background role
-- (kefu_events) alone. It names tenants and timer ids, never their contents; each is then
-- claimed and applied inside its tenant by the serving role.
CREATE FUNCTION routing.due_timers(max_count integer)
    RETURNS TABLE (tenant_id uuid, id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT t.tenant_id, t.id FROM routing.timers t WHERE t.due_at <= now() ORDER BY t.due_at LIMIT max_count $$;
REVOKE ALL ON FUNCTION routing.due_timers(integer) FROM PUBLIC;
GRANT USAGE ON SCHEMA routing TO kefu_events;
GRANT EXECUTE ON FUNCTION routing.due_timers(integer) TO kefu_events;
