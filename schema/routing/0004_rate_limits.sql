-- Anonymous visitor starts per client address, counted here so every routing replica shares one
-- count (KefuCore RateLimiter). Global: no tenant is known yet; buckets are SHA-256 digests, so
-- the table holds no tenant data and no caller input.
CREATE TABLE routing.rate_limits (
    bucket text PRIMARY KEY,
    hits integer NOT NULL,
    window_ends_at timestamptz NOT NULL
);
CREATE INDEX rate_limits_window_ends_at ON routing.rate_limits (window_ends_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON routing.rate_limits TO kefu_service;
