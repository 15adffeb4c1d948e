-- The customer funnel (客户漏斗, DOMAIN §5; definitions in docs/ANALYTICS.md) from the customer
-- library's customer.stage_changed. Each change is a fact under its natural key (the customer
-- and the time of the change), so a redelivered event adds nothing; the report is computed when
-- asked from the stored changes, so late and out-of-order changes simply take their place in
-- each customer's history and the figures equal a recomputation from the facts.
CREATE TABLE analytics.stage_changes (
    tenant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    changed_at timestamptz NOT NULL,
    -- the owner at the change (credited with it), the customer's first reception's channel and source
    owner_id uuid,
    channel text,
    source text,
    stage_before text,
    stage_after text,
    position_before integer,
    position_after integer,
    won boolean NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, changed_at)
);
-- A period's changes (the report's cohort), then each customer's history through its key.
CREATE INDEX stage_changes_period ON analytics.stage_changes (tenant_id, changed_at);

-- Customers merged away or deleted: their changes no longer count (a survivor's stage is its
-- own; a merge that fills it publishes a change of the survivor). Kept apart from the changes,
-- so a change arriving after the customer's merge or deletion is still left out.
CREATE TABLE analytics.customers_gone (
    tenant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

DO $rls$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['stage_changes', 'customers_gone'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE analytics.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON analytics.%I TO kefu_service', t);
    END LOOP;
END
$rls$;

-- apply_events keeps its name and signature (the consumer and the benchmark call it): the
-- conversation and organisation events go on to the function as it was, under a new name; the
-- customer funnel's facts are stored first, set-based.
ALTER FUNCTION analytics.apply_events(text[], jsonb[]) RENAME TO apply_conversation_events;

CREATE FUNCTION analytics.apply_events(types text[], payloads jsonb[]) RETURNS integer
    LANGUAGE plpgsql AS $$
    DECLARE
        tenant uuid := kefu.current_tenant();
    BEGIN
        IF tenant IS NULL THEN RAISE EXCEPTION 'analytics.apply_events needs kefu.tenant_id'; END IF;
        INSERT INTO analytics.stage_changes (tenant_id, customer_id, changed_at, owner_id, channel, source, stage_before, stage_after,
                                             position_before, position_after, won)
        SELECT tenant, (p->>'customer_id')::uuid, (p->>'at')::timestamptz, (p->>'owner_id')::uuid, p->>'channel', p->>'source',
               p->>'stage_before', p->>'stage_after', (p->>'position_before')::integer, (p->>'position_after')::integer,
               coalesce((p->>'won')::boolean, false)
        FROM unnest(types, payloads) AS e(type, p) WHERE type = 'customer.stage_changed'
        ON CONFLICT DO NOTHING;
        INSERT INTO analytics.customers_gone (tenant_id, customer_id)
        SELECT tenant, (p->>'customer_id')::uuid FROM unnest(types, payloads) AS e(type, p) WHERE type = 'customer.deleted'
        UNION
        SELECT tenant, m::uuid FROM unnest(types, payloads) AS e(type, p), jsonb_array_elements_text(p->'merged_ids') m
        WHERE type = 'customer.merged'
        ON CONFLICT DO NOTHING;
        RETURN analytics.apply_conversation_events(types, payloads);
    END
    $$;
GRANT EXECUTE ON FUNCTION analytics.apply_events(text[], jsonb[]) TO kefu_service;
