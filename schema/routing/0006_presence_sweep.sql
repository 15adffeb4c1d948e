-- A replica that dies leaves its agents' socket rows behind, going stale. A live replica must
-- notice and start those agents' grace periods, whichever tenants they are in: it finds them
-- through this door (tenant and employee ids only), then acts inside each tenant.
CREATE FUNCTION routing.stale_agent_sockets(stale_seconds integer, max_count integer)
    RETURNS TABLE (tenant_id uuid, employee_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT DISTINCT s.tenant_id, s.employee_id FROM routing.agent_sockets s
        WHERE s.seen_at <= now() - make_interval(secs => stale_seconds) LIMIT max_count
    $$;
REVOKE ALL ON FUNCTION routing.stale_agent_sockets(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION routing.stale_agent_sockets(integer, integer) TO kefu_events;
