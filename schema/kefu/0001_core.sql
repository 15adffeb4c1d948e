-- Shared core: tenancy helper, the event outbox and consumer cursors.
-- Runs as the owner role. The serving role gets privileges through the group role kefu_service.

GRANT USAGE ON SCHEMA kefu TO kefu_service;

-- The tenant the current transaction is pinned to (Database.withTenant), or NULL.
-- NULLIF: after a transaction-local set_config ends, the setting reads '' rather than NULL.
CREATE FUNCTION kefu.current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('kefu.tenant_id', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION kefu.current_tenant() TO kefu_service;

-- The outbox: written in the same transaction as the change an event describes.
CREATE TABLE kefu.events (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    -- The writing transaction: consumers deliver in (txid, id) order, see events_since.
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    type text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_delivery_order ON kefu.events (txid, id);
ALTER TABLE kefu.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE kefu.events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kefu.events
    USING (tenant_id = kefu.current_tenant())
    WITH CHECK (tenant_id = kefu.current_tenant());
-- Events are facts: services append and read them, never change them.
GRANT SELECT, INSERT ON kefu.events TO kefu_service;

-- NOTIFY is only a wake-up (delivered at commit, coalesced per transaction); the table is the truth.
CREATE FUNCTION kefu.notify_events() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN PERFORM pg_notify('kefu_events', ''); RETURN NULL; END $$;
CREATE TRIGGER events_notify AFTER INSERT ON kefu.events
    FOR EACH STATEMENT EXECUTE FUNCTION kefu.notify_events();

-- Consumers read every tenant's events; this is the one narrow door through row-level security.
-- Only rows written by transactions older than the oldest one still running are returned: those
-- transactions have all ended, so no row can later appear before the ones returned, even when
-- transactions commit out of id order.
CREATE FUNCTION kefu.events_since(after_txid xid8, after_id bigint, max_count integer)
    RETURNS TABLE (tenant_id uuid, id bigint, txid xid8, type text, payload jsonb, created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT e.tenant_id, e.id, e.txid, e.type, e.payload, e.created_at
        FROM kefu.events e
        WHERE (e.txid, e.id) > (after_txid, after_id)
          AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.txid, e.id
        LIMIT max_count
    $$;
REVOKE ALL ON FUNCTION kefu.events_since(xid8, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kefu.events_since(xid8, bigint, integer) TO kefu_service;

-- Global (not tenant data): one row per consumer name.
CREATE TABLE kefu.event_cursors (
    consumer text PRIMARY KEY,
    last_txid xid8 NOT NULL,
    last_id bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE ON kefu.event_cursors TO kefu_service;
