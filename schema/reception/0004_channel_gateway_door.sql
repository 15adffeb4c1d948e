-- WeChat calls an official account's callback (/v1/wechat/{channel_id} on routing) naming only
-- the channel: routing asks reception which tenant holds it before any tenant is known. This is
-- that one door: an official account's id in, its tenant out (nothing else of the channel).
-- Channel ids are drawn by reception (random UUIDs), never chosen by a client; should two
-- tenants ever hold the same id, the door answers nothing rather than pick one.
CREATE FUNCTION reception.official_account_tenant(channel uuid)
    RETURNS TABLE (tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT min(c.tenant_id::text)::uuid FROM reception.config_items c
        WHERE c.kind = 'channel' AND c.subtype = 'wechat_official_account' AND c.id = channel
        HAVING count(*) = 1
    $$;
REVOKE ALL ON FUNCTION reception.official_account_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reception.official_account_tenant(uuid) TO kefu_service;
