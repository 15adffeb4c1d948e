-- Search by one or two characters (a Chinese given name is often two characters: 王芳, 李娜).
-- pg_trgm needs three characters to use its index, so a shorter term scanned the tenant (~0.9 s
-- at a million customers). The single characters and pairs of adjacent characters of each name
-- and remark (lower-cased, none holding a space: a search term is trimmed) are kept in a stored
-- generated column, GIN-indexed: every statement that writes a name or a remark maintains it,
-- with no code of its own. The first 64 characters of a name and 500 of a remark count (the caps
-- bound the array; a short term found only past them is not found).
CREATE FUNCTION customers.short_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT coalesce(array_agg(DISTINCT gram), '{}')
        FROM (SELECT lower(t) AS s) AS n,
             LATERAL (SELECT substr(n.s, i, w) AS gram
                      FROM generate_series(1, char_length(n.s)) AS i, (VALUES (1), (2)) AS widths (w)
                      WHERE i + w - 1 <= char_length(n.s)) AS grams
        WHERE gram !~ '\s'
    $$;
GRANT EXECUTE ON FUNCTION customers.short_grams(text) TO kefu_service;

ALTER TABLE customers.customers ADD COLUMN search_grams text[]
    GENERATED ALWAYS AS (customers.short_grams(left(name, 64)) || customers.short_grams(left(remark, 500))) STORED;
CREATE INDEX customers_search_grams ON customers.customers USING gin (search_grams);

-- The search door (0010) with the short case: a term of one or two characters looks in names and
-- remarks (through the grams above) and in tags; a longer one, as before, in names, phones and
-- remarks by substring through the trigram indexes, and in tags whole. (One or two digits of a
-- phone would find too many customers to mean anything, and no index serves them.) Same
-- signature, same grant: the catalogue's entry is unchanged.
CREATE OR REPLACE FUNCTION customers.search_ids(pattern text, tag text, max_rows integer)
    RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        -- EXECUTE plans for the actual values (a generic plan cannot know which index serves);
        -- the values are bound with USING, never written into the text.
        IF char_length(tag) < 3 THEN
            RETURN QUERY EXECUTE
                'SELECT c.id FROM customers.customers c WHERE c.tenant_id = kefu.current_tenant() '
                'AND (c.search_grams @> ARRAY[lower($1)] OR c.tags @> ARRAY[$1]) LIMIT $2'
                USING tag, max_rows;
        ELSE
            RETURN QUERY EXECUTE
                'SELECT c.id FROM customers.customers c WHERE c.tenant_id = kefu.current_tenant() '
                'AND (c.name ILIKE $1 OR c.search_phones ILIKE $1 OR c.remark ILIKE $1 OR c.tags @> ARRAY[$2]) LIMIT $3'
                USING pattern, tag, max_rows;
        END IF;
    END
    $$;
