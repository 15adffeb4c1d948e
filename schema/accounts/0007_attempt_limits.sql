-- Requests per client address and per account on the anonymous auth routes, counted here so that
-- every replica of accounts shares one count (RateLimiter.swift). Global: an address is limited
-- before any tenant is known. `bucket` is the SHA-256 (hex) of route, scope and key, so the table
-- holds no tenant data and no caller input.
CREATE TABLE accounts.rate_limits (
    bucket text PRIMARY KEY,
    hits integer NOT NULL,
    window_ends_at timestamptz NOT NULL
);
CREATE INDEX rate_limits_window_ends_at ON accounts.rate_limits (window_ends_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts.rate_limits TO kefu_service;

-- One live challenge per employee and purpose is looked up on every new challenge.
CREATE INDEX phone_challenges_live ON accounts.phone_challenges (tenant_id, employee_id, purpose) WHERE consumed_at IS NULL;

-- The phone change confirmation is a third purpose of the same challenges.
ALTER TABLE accounts.phone_challenges DROP CONSTRAINT phone_challenges_purpose_check;
ALTER TABLE accounts.phone_challenges ADD CONSTRAINT phone_challenges_purpose_check
    CHECK (purpose IN ('login', 'password_reset', 'phone_change'));
