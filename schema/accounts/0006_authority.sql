-- Security review (issue 9): sessions remember whether they passed the second factor and end at
-- an absolute time; API keys may expire; a changed phone waits for the code sent to it.

-- A session (refresh-token family) that skipped the second factor must never be refreshed into
-- sensitive permissions; and a session slides only up to session_expires_at.
ALTER TABLE accounts.refresh_tokens
    ADD COLUMN second_factor boolean NOT NULL DEFAULT false,
    ADD COLUMN session_expires_at timestamptz;
UPDATE accounts.refresh_tokens SET session_expires_at = expires_at;
ALTER TABLE accounts.refresh_tokens ALTER COLUMN session_expires_at SET NOT NULL;

ALTER TABLE accounts.api_keys ADD COLUMN expires_at timestamptz;

-- A phone number waiting for its owner to enter the code sent to it: at most one per employee
-- (a new request replaces it). Wrong codes count across replacements within the hour, so
-- replacing the request does not reset the guesses.
CREATE TABLE accounts.phone_changes (
    tenant_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    new_phone text NOT NULL,
    code_hash bytea NOT NULL,
    requested_by_type text NOT NULL,
    requested_by uuid,
    attempts integer NOT NULL DEFAULT 0,
    failures integer NOT NULL DEFAULT 0,
    failures_since timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, employee_id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES accounts.employees (tenant_id, id)
);
ALTER TABLE accounts.phone_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts.phone_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts.phone_changes
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts.phone_changes TO kefu_service;
