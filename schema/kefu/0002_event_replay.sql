-- Consumers that every process runs (e.g. the revocation list) start from a point in time
-- rather than from a stored cursor.
CREATE INDEX events_created_at ON kefu.events (created_at);

-- The delivery position just before the first event written at or after p_since; the newest
-- position when there is none. Cross-tenant, hence SECURITY DEFINER like events_since.
CREATE FUNCTION kefu.events_position_since(p_since timestamptz)
    RETURNS TABLE (txid xid8, id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT p.txid, p.id FROM (
            -- Just before the oldest transaction that wrote in the window.
            (SELECT (min(e.txid)::text::numeric - 1)::text::xid8 AS txid, 9223372036854775807::bigint AS id, 1 AS rank
             FROM kefu.events e WHERE e.created_at >= p_since HAVING count(*) > 0)
            UNION ALL
            (SELECT e.txid, e.id, 2 FROM kefu.events e ORDER BY e.txid DESC, e.id DESC LIMIT 1)
            UNION ALL
            (SELECT '0'::xid8, 0::bigint, 3)
        ) p ORDER BY p.rank LIMIT 1
    $$;
REVOKE ALL ON FUNCTION kefu.events_position_since(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kefu.events_position_since(timestamptz) TO kefu_service;
