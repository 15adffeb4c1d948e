-- A partner channel's outgoing messages are webhook deliveries like any other (the same queue,
-- retries, signing and log), to one endpoint row per channel: channel_id names the reception
-- channel it stands for (the row takes the channel's id), with the outbound URL and signing
-- secret routing hands on in each `channel.message` event. Such a row receives only its own
-- channel's messages; no subscription can name that event type.
ALTER TABLE accounts.webhooks ADD COLUMN channel_id uuid;
CREATE UNIQUE INDEX webhooks_channel ON accounts.webhooks (tenant_id, channel_id) WHERE channel_id IS NOT NULL;
