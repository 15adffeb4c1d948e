-- 挂起: a suspended agent's own automatic reply, sent to a new customer who was meant for them
-- (their owner, or a widget or rule that names them) and finds them away.
ALTER TABLE routing.agents ADD COLUMN suspended_reply text CHECK (char_length(suspended_reply) BETWEEN 1 AND 500);
