-- When each message reached analytics: the lag from an event's commit to its figure, read in
-- SQL (make bench measures it; an operator can see how far behind the consumer runs).
ALTER TABLE analytics.messages ADD COLUMN applied_at timestamptz NOT NULL DEFAULT clock_timestamp();
