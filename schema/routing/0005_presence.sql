-- Presence: an agent whose last socket closed, on every replica, goes offline after a grace period.
-- Each replica keeps its count of an agent's sockets here (refreshed by a heartbeat, so a dead
-- replica's rows go stale instead of keeping the agent online), and the grace period is a
-- durable timer like the others.
CREATE TABLE routing.agent_sockets (
    tenant_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    -- The routing process holding the sockets (a random id per start).
    replica uuid NOT NULL,
    sockets integer NOT NULL CHECK (sockets > 0),
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, employee_id, replica)
);
ALTER TABLE routing.agent_sockets ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing.agent_sockets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing.agent_sockets
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON routing.agent_sockets TO kefu_service;

-- Timers of an agent (the grace period) have no conversation.
ALTER TABLE routing.timers ALTER COLUMN conversation_id DROP NOT NULL;
ALTER TABLE routing.timers ADD COLUMN agent_id uuid;
ALTER TABLE routing.timers DROP CONSTRAINT timers_kind_check;
ALTER TABLE routing.timers ADD CONSTRAINT timers_kind_check
    CHECK (kind IN ('guide_push', 'conversation_timeout', 'queue_wait', 'presence_grace'));
ALTER TABLE routing.timers ADD CONSTRAINT timers_subject
    CHECK (CASE WHEN kind = 'presence_grace' THEN agent_id IS NOT NULL AND conversation_id IS NULL ELSE conversation_id IS NOT NULL END);
CREATE UNIQUE INDEX timers_presence ON routing.timers (tenant_id, agent_id) WHERE kind = 'presence_grace';
