-- Webhook delivery (docs/ARCHITECTURE.md, "Webhook delivery"). The accounts.webhooks consumer
-- turns each subscribed outbox event into one delivery per enabled endpoint (unique per event
-- and endpoint, so a re-delivered event adds nothing); every replica's dispatcher claims due
-- deliveries with a lease, sends them and records each attempt. All of it is rows: a crash or
-- a restart loses nothing.

-- The previous secret signs too for 24 hours after a rotation; failing_since is when the
-- endpoint's current run of failures began (cleared by any success), which disables it after
-- KEFU_WEBHOOK_DISABLE_AFTER_SECONDS; disabled_reason says why it was disabled by Kefu.
ALTER TABLE accounts.webhooks
    ADD COLUMN previous_sealed_secret text,
    ADD COLUMN previous_secret_until timestamptz,
    ADD COLUMN failing_since timestamptz,
    ADD COLUMN disabled_reason text CHECK (disabled_reason IN ('gone', 'failing'));

CREATE TABLE accounts.webhook_deliveries (
    tenant_id uuid NOT NULL,
    -- Sent as webhook-id: the same on every attempt and redelivery of this message.
    id uuid NOT NULL,
    -- Newest first in the delivery log (one transaction may create many: a replay).
    seq bigint GENERATED ALWAYS AS IDENTITY,
    webhook_id uuid NOT NULL,
    -- The outbox event delivered; NULL for test messages.
    event_id bigint,
    event_type text NOT NULL,
    -- The exact body signed and sent ({type, timestamp, data}); redeliveries send the same bytes.
    body text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt_count integer NOT NULL DEFAULT 0,
    -- Position in the retry schedule of the next attempt (a redelivery starts it again).
    retry_index integer NOT NULL DEFAULT 0,
    -- NULL once finished (succeeded, or failed for good).
    next_attempt_at timestamptz,
    -- A dispatcher holds the delivery while it sends it; another may take it after this time.
    lease_until timestamptz,
    lease_token uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, webhook_id, event_id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES accounts.webhooks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON accounts.webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_log ON accounts.webhook_deliveries (tenant_id, webhook_id, seq DESC);

CREATE TABLE accounts.webhook_attempts (
    tenant_id uuid NOT NULL,
    delivery_id uuid NOT NULL,
    attempt integer NOT NULL,
    attempted_at timestamptz NOT NULL,
    -- NULL: no answer (timeout, refused connection, refused address).
    status_code integer,
    succeeded boolean NOT NULL,
    latency_ms integer NOT NULL,
    error text,
    -- The first KiB of the answer, for the admin reading the log.
    response_excerpt text,
    PRIMARY KEY (tenant_id, delivery_id, attempt),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES accounts.webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE accounts.webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts.webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts.webhook_deliveries
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
ALTER TABLE accounts.webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts.webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts.webhook_attempts
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts.webhook_deliveries TO kefu_service;
-- Attempts are history: inserted and read, never changed.
GRANT SELECT, INSERT ON accounts.webhook_attempts TO kefu_service;

-- Kefu itself disables failing endpoints, and audits it.
ALTER TABLE accounts.audit_log DROP CONSTRAINT audit_log_actor_type_check;
ALTER TABLE accounts.audit_log ADD CONSTRAINT audit_log_actor_type_check
    CHECK (actor_type IN ('employee', 'api_key', 'platform', 'anonymous', 'system'));

-- Which deliveries are due, across tenants: the dispatcher's one door, for the background role
-- (kefu_events) alone. It names tenants, deliveries and endpoints, never contents; each is then
-- claimed and sent inside its tenant by the serving role. At most per_endpoint per endpoint, so
-- one endpoint's backlog never fills the batch other endpoints wait in.
CREATE FUNCTION accounts.due_webhook_deliveries(per_endpoint integer, max_count integer)
    RETURNS TABLE (tenant_id uuid, id uuid, webhook_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT d.tenant_id, d.id, d.webhook_id FROM (
            SELECT d.tenant_id, d.id, d.webhook_id, d.next_attempt_at,
                   row_number() OVER (PARTITION BY d.tenant_id, d.webhook_id ORDER BY d.next_attempt_at) AS n
            FROM accounts.webhook_deliveries d
            JOIN accounts.webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id AND w.enabled
            WHERE d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
        ) d
        WHERE d.n <= per_endpoint ORDER BY d.next_attempt_at LIMIT max_count
    $$;
REVOKE ALL ON FUNCTION accounts.due_webhook_deliveries(integer, integer) FROM PUBLIC;
GRANT USAGE ON SCHEMA accounts TO kefu_events;
GRANT EXECUTE ON FUNCTION accounts.due_webhook_deliveries(integer, integer) TO kefu_events;
