-- Other services' administrative changes reach the audit log as audit.recorded events; the
-- outbox id of the event makes recording it idempotent (delivery is at least once).
ALTER TABLE accounts.audit_log ADD COLUMN source_event bigint;
CREATE UNIQUE INDEX audit_log_source_event ON accounts.audit_log (tenant_id, source_event) WHERE source_event IS NOT NULL;
