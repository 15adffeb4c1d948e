-- A custom field's validation beyond its type: text lengths, number bounds (and whole numbers
-- only), date and date-time bounds. NULL: only the type's own limits. Kept as JSON in the
-- field's API shape (`{"min_length": 2, "max_length": 20}`), which the service checks on write.
ALTER TABLE customers.fields ADD COLUMN validation jsonb;
