-- Idempotency-Key on POST (docs/ARCHITECTURE.md, HTTP). A request's first write claims its key in
-- the same transaction, so the key is taken exactly when the write commits; the response is
-- stored right after, and a retry with the same key gets it back instead of writing again.
CREATE TABLE kefu.idempotency_keys (
    tenant_id uuid NOT NULL,
    service text NOT NULL,
    -- Keys belong to their caller: 'employee:<id>' or 'api_key:<id>'.
    subject text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- The request holding the key: after a failure whose commit is in doubt (the connection died
    -- at COMMIT), a request finds out whether its own write committed.
    claim_id uuid NOT NULL,
    -- SHA-256 of the method, the path with its query, and the body: the same key with another
    -- request is refused rather than answered with the first one's response.
    fingerprint bytea NOT NULL,
    -- NULL until the response is stored.
    status smallint,
    headers jsonb,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, service, subject, key)
);
ALTER TABLE kefu.idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE kefu.idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kefu.idempotency_keys
    USING (tenant_id = kefu.current_tenant())
    WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE ON kefu.idempotency_keys TO kefu_service;
