-- Wake-ups name what was written, and go out after the commit.
--
-- Until now a statement trigger on kefu.events sent an empty NOTIFY inside the writing
-- transaction. Two costs: every consumer of every process woke and read the outbox whatever the
-- event (a dozen consumers that never handle a message, on every message), and a transaction
-- that NOTIFYs takes a cluster-wide lock at commit that it holds through its WAL flush, so no two
-- event-writing transactions could share a flush (pgbench here: half the throughput or less).
-- Now the publishing process sends `pg_notify('kefu_events', <type>)` itself, after COMMIT, in a
-- statement of its own (KefuCore's CommitNotices), and each consumer wakes only for its types.
-- A wake-up lost to a crash between the two only waits for the consumers' poll.
DROP TRIGGER events_notify ON kefu.events;
DROP FUNCTION kefu.notify_events();

-- The same delivery order as events_since, but only the events of the types a consumer handles,
-- so that the outbox's other traffic is skipped in Postgres and never sent to it. It looks at up
-- to max_count events after the position and returns those of the wanted types, plus always the
-- last one looked at (whatever its type): the consumer moves its cursor there, past what it
-- skipped. `scanned` (on every row) is how many were looked at; fewer than max_count means the
-- consumer has caught up.
CREATE FUNCTION kefu.events_since(after_txid xid8, after_id bigint, max_count integer, wanted text[])
    RETURNS TABLE (tenant_id uuid, id bigint, txid xid8, type text, payload jsonb, created_at timestamptz, scanned integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH looked AS MATERIALIZED (
            SELECT e.tenant_id, e.id, e.txid, e.type, e.payload, e.created_at,
                   row_number() OVER (ORDER BY e.txid, e.id) AS n
            FROM kefu.events e
            WHERE (e.txid, e.id) > (after_txid, after_id)
              AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY e.txid, e.id
            LIMIT max_count
        ), total AS (SELECT count(*)::integer AS scanned FROM looked)
        SELECT l.tenant_id, l.id, l.txid, l.type,
               CASE WHEN l.type = ANY (wanted) THEN l.payload END, l.created_at, total.scanned
        FROM looked l CROSS JOIN total
        WHERE l.type = ANY (wanted) OR l.n = total.scanned
        ORDER BY l.txid, l.id
    $$;
REVOKE ALL ON FUNCTION kefu.events_since(xid8, bigint, integer, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kefu.events_since(xid8, bigint, integer, text[]) TO kefu_events;
-- The three-argument events_since stays while replicas of the previous release (which call it)
-- may still run next to upgraded ones: services deploy one at a time. Those replicas hear no
-- wake-ups from upgraded writers (they listen for the trigger's), so until they are replaced
-- they deliver on their poll interval.
