-- Webhook signing secrets must be read back to sign deliveries, so they are encrypted at rest
-- (SecretBox, key from KEFU_SECRETS_KEY_FILE) rather than hashed.
ALTER TABLE accounts.webhooks RENAME COLUMN secret TO sealed_secret;
