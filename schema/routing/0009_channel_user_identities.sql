-- The identities a partner said its user also has (a phone, an email, a WeChat unionid), as
-- {"kind": ..., "external_id": ...} objects: routing publishes channel_user.seen again only when
-- a message brings one it had not reported, so a partner sending the phone with every message
-- costs one event, not one per message.
ALTER TABLE routing.channel_users ADD COLUMN identities jsonb NOT NULL DEFAULT '[]';
