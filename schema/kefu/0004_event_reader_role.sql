-- Reading every tenant's events is the event consumers' work alone: the two cross-tenant doors
-- (events_since, events_position_since) and the consumer cursors move from the serving role to
-- kefu_events, a login that can do nothing else (scripts/bootstrap.sql creates it). A serving
-- process, whatever SQL it is made to run, then reaches only its own tenant's events, and cannot
-- move a consumer's cursor past events it has not delivered.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kefu_events') THEN
        RAISE EXCEPTION 'role kefu_events does not exist: run scripts/bootstrap.sql on this cluster again';
    END IF;
END $$;

REVOKE EXECUTE ON FUNCTION kefu.events_since(xid8, bigint, integer), kefu.events_position_since(timestamptz)
    FROM kefu_service;
REVOKE ALL ON kefu.event_cursors FROM kefu_service;

GRANT USAGE ON SCHEMA kefu TO kefu_events;
GRANT EXECUTE ON FUNCTION kefu.events_since(xid8, bigint, integer), kefu.events_position_since(timestamptz)
    TO kefu_events;
GRANT SELECT, INSERT, UPDATE ON kefu.event_cursors TO kefu_events;
