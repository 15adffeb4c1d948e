-- Message-text search over the last 90 days, Chinese included. pg_trgm indexes trigrams of
-- characters, so a substring of three or more characters is found through the index. It is the
-- customer library's extension (it lives in the customers schema, created by its migration
-- 0004): one database has one copy of an extension, so analytics uses that copy — its operator
-- class is found where it lives — and refuses to migrate before it exists, rather than installing
-- it elsewhere and breaking the customers migration that names customers.gin_trgm_ops.
DO $trgm$
DECLARE
    extension_schema text;
BEGIN
    SELECT n.nspname INTO extension_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF extension_schema IS NULL THEN
        RAISE EXCEPTION 'analytics needs pg_trgm, which the customers service''s migrations create: migrate customers first';
    END IF;
    EXECUTE format('CREATE INDEX messages_text_trgm ON analytics.messages USING gin (text %I.gin_trgm_ops)', extension_schema);
END
$trgm$;

-- Under row-level security Postgres applies a query's own conditions only after the policy's
-- unless their operators are leakproof; ILIKE is not, so the serving role could never use the
-- trigram index (a scan of the tenant's messages). This door runs as the owner, pins the tenant
-- itself and returns conversation ids of the transaction's tenant only; the caller still applies
-- every other filter and its data scope. One or two characters have no trigram: they are looked
-- for in the tenant's newest `recent_rows` messages of the period (a bounded scan, documented in
-- docs/ANALYTICS.md), newest first.
CREATE FUNCTION analytics.search_conversations(needle text, since timestamptz, max_rows integer, recent_rows integer)
    RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        pattern text := '%' || replace(replace(replace(needle, '\', '\\'), '%', '\%'), '_', '\_') || '%';
    BEGIN
        IF kefu.current_tenant() IS NULL OR needle IS NULL OR needle = '' THEN
            RETURN;
        END IF;
        -- EXECUTE plans for the actual pattern (a generic plan cannot know it is selective); the
        -- values are bound with USING, never written into the text.
        IF char_length(needle) >= 3 THEN
            RETURN QUERY EXECUTE
                'SELECT DISTINCT m.conversation_id FROM analytics.messages m '
                'WHERE m.tenant_id = kefu.current_tenant() AND m.created_at >= $2 AND m.text ILIKE $1 LIMIT $3'
                USING pattern, since, max_rows;
        ELSE
            RETURN QUERY EXECUTE
                'SELECT DISTINCT r.conversation_id FROM (SELECT m.conversation_id, m.text FROM analytics.messages m '
                'WHERE m.tenant_id = kefu.current_tenant() AND m.created_at >= $2 ORDER BY m.created_at DESC LIMIT $4) r '
                'WHERE r.text ILIKE $1 LIMIT $3'
                USING pattern, since, max_rows, recent_rows;
        END IF;
    END
    $$;
REVOKE ALL ON FUNCTION analytics.search_conversations(text, timestamptz, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.search_conversations(text, timestamptz, integer, integer) TO kefu_service;

-- Reception-widget events from the embed script (POST /v1/public/widgets/{key}/events):
-- impressions and clicks, with the page and the visitor when known.
CREATE TABLE analytics.widget_events (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    widget_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('impression', 'click')),
    page_url text,
    source text,
    visitor_id uuid,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX widget_events_time ON analytics.widget_events (tenant_id, occurred_at, widget_id);
ALTER TABLE analytics.widget_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.widget_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.widget_events USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT ON analytics.widget_events TO kefu_service;

-- Anonymous widget events per client address, counted here so every analytics replica shares
-- one count (KefuCore RateLimiter, as routing's visitor starts). Global: buckets are SHA-256
-- digests, so the table holds no tenant data and no caller input.
CREATE TABLE analytics.rate_limits (
    bucket text PRIMARY KEY,
    hits integer NOT NULL,
    window_ends_at timestamptz NOT NULL
);
CREATE INDEX rate_limits_window_ends_at ON analytics.rate_limits (window_ends_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON analytics.rate_limits TO kefu_service;
