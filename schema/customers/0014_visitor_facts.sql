-- What routing last reported of a customer's visits (page URL, source, region, channel): the
-- facts the `visitor.*` conditions of entry and scoring rules test. Kept on the customer so that
-- every later rescoring (an edit, a batch, a merge, a rule change) tests them too, not only the
-- one made while routing's event was handled. A constant default: added without a table rewrite.
ALTER TABLE customers.customers ADD COLUMN visitor_facts jsonb NOT NULL DEFAULT '{}'::jsonb;
