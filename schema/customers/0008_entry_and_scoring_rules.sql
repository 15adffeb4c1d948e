-- Automatic entry rules (自动入库: a contact matching one is added to the library) and value-scoring
-- rules (价值评分: each matching rule gives its points). Both are condition sets of the one
-- condition language, evaluated in memory against a customer's facts.
CREATE TABLE customers.rules (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('entry', 'scoring')),
    name text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0,
    conditions jsonb NOT NULL,
    -- Scoring rules only: the points a match gives (negative ones lower the score).
    points integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kind, name),
    CHECK ((kind = 'scoring') = (points IS NOT NULL))
);

-- Why a customer has its score: the scoring rules it matched when last scored.
ALTER TABLE customers.customers ADD COLUMN score_reasons jsonb NOT NULL DEFAULT '[]';
CREATE INDEX customers_value_score ON customers.customers (tenant_id, value_score DESC, id);

ALTER TABLE customers.rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers.rules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers.rules USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON customers.rules TO kefu_service;
