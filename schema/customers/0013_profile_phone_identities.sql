-- A profile's phones are also its phone identities from now on (CustomerWrites.syncPhoneIdentities).
-- Customers written before get theirs here: each number goes to the customer that has had it
-- longest; one another customer holds already stays a profile value only (nothing is merged).
INSERT INTO customers.identities (tenant_id, kind, channel, external_id, customer_id)
SELECT DISTINCT ON (c.tenant_id, phone) c.tenant_id, 'phone', '', phone, c.id
FROM customers.customers c, unnest(c.phones) AS phone
WHERE c.entered
ORDER BY c.tenant_id, phone, c.created_at, c.id
ON CONFLICT DO NOTHING;
