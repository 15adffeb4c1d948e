-- Views' equality conditions on the profile's commonest filters, through indexes. Under
-- row-level security only leakproof operators become index conditions: a choice (follow-up
-- status, funnel stage, gender) and a text value with no letter case (上海, a number) compare
-- exactly (`=` on text is leakproof), so these indexes serve them for the serving role and a
-- view's count reads the rows its conditions select instead of the whole tenant (~0.5 s at a
-- million customers). Text with letter case still compares through lower(), as a filter.
CREATE INDEX customers_region ON customers.customers (tenant_id, region);
CREATE INDEX customers_follow_up_status ON customers.customers (tenant_id, follow_up_status);
CREATE INDEX customers_funnel_stage ON customers.customers (tenant_id, funnel_stage);
CREATE INDEX customers_source ON customers.customers (tenant_id, source);
