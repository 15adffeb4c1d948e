-- Merges (DOMAIN.md §4): a merged-away customer's row goes, but nothing of it is lost. Its
-- identities, receptions, tags, phones, emails and custom values move to the survivor (the
-- survivor's values win conflicts); the merge record keeps each loser's whole profile as it was,
-- and merged_ids answers for the old id (410 with merged_into) for ever.
CREATE TABLE customers.merges (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    survivor_id uuid NOT NULL,
    merged_ids uuid[] NOT NULL,
    -- 'manual' (an agent chose the survivor) or 'identity' (a strong identifier was recognised).
    reason text NOT NULL CHECK (reason IN ('manual', 'identity')),
    -- What moved to the survivor: counts of identities and receptions, tags, phones, emails.
    moved jsonb NOT NULL,
    -- Each loser's profile before the merge, keyed by its id (the values the survivor's replaced).
    losers jsonb NOT NULL,
    by_employee uuid,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX merges_survivor ON customers.merges (tenant_id, survivor_id, at);

-- Every id merged away, and the customer it lives on in now (kept current when a survivor is
-- itself merged later, so one lookup answers).
CREATE TABLE customers.merged_ids (
    tenant_id uuid NOT NULL,
    merged_id uuid NOT NULL,
    survivor_id uuid NOT NULL,
    merge_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, merged_id),
    FOREIGN KEY (tenant_id, merge_id) REFERENCES customers.merges (tenant_id, id)
);
CREATE INDEX merged_ids_survivor ON customers.merged_ids (tenant_id, survivor_id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['merges', 'merged_ids'] LOOP
        EXECUTE format('ALTER TABLE customers.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE customers.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON customers.%I USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant())', t);
    END LOOP;
END $$;

-- A merge record is a fact: written once, never changed; merged_ids follow later merges.
GRANT SELECT, INSERT ON customers.merges TO kefu_service;
GRANT SELECT, INSERT, UPDATE ON customers.merged_ids TO kefu_service;
