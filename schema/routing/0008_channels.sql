-- Channels other than the web (docs/ARCHITECTURE.md, "Channels"): partner channels and WeChat
-- official accounts. A channel user (a partner's user id, a follower's openid) is a routing
-- visitor without a widget; their messages go through the same conversations and messages as
-- a web visitor's.

-- A channel visitor arrives through no widget.
ALTER TABLE routing.visitors ALTER COLUMN widget_id DROP NOT NULL;

-- Who each channel user is here: one visitor per (channel, external id). The external id is
-- the partner's user id or the follower's openid, meaningful only within its channel.
CREATE TABLE routing.channel_users (
    tenant_id uuid NOT NULL,
    channel_id uuid NOT NULL,
    external_id text NOT NULL CHECK (char_length(external_id) BETWEEN 1 AND 200),
    visitor_id uuid NOT NULL,
    channel_type text NOT NULL,
    -- WeChat: unsubscribed followers are kept (they may come back), marked here.
    subscribed boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel_id, external_id),
    UNIQUE (tenant_id, visitor_id),
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES routing.visitors (tenant_id, id)
);

-- Inbound deliveries already handled, per channel: a partner's client_message_id, WeChat's
-- MsgId (or sender + CreateTime for events). A repeated delivery finds its row and is answered
-- as the first was (reply: the passive reply sent, or the message stored), never handled twice.
CREATE TABLE routing.channel_inbound (
    tenant_id uuid NOT NULL,
    channel_id uuid NOT NULL,
    dedupe_key text NOT NULL,
    message_id uuid,
    conversation_id uuid,
    reply text,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel_id, dedupe_key)
);

-- Outbound: one row per message sent to a channel (the outbound consumer's idempotency: a
-- redelivered message.created finds its row and sends nothing again), with how it went.
-- failed + error_code: WeChat refused it for good (45015 outside the 48-hour window, 45047
-- over quota, ...); the agent sees it and nothing retries it.
CREATE TABLE routing.channel_deliveries (
    tenant_id uuid NOT NULL,
    message_id uuid NOT NULL,
    conversation_id uuid NOT NULL,
    channel_id uuid NOT NULL,
    channel_type text NOT NULL,
    status text NOT NULL CHECK (status IN ('handed_over', 'sent', 'failed')),
    error_code integer,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, message_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES routing.conversations (tenant_id, id)
);
CREATE INDEX channel_deliveries_conversation ON routing.channel_deliveries (tenant_id, conversation_id);

-- Which channel a conversation came through (web conversations: NULL).
ALTER TABLE routing.conversations ADD COLUMN channel_id uuid;

-- One WeChat access token per app, shared by every replica: refreshed by whoever finds it
-- about to expire (under the row lock), so replicas never race WeChat's token endpoint, which
-- invalidates the previous token on each call.
CREATE TABLE routing.wechat_tokens (
    tenant_id uuid NOT NULL,
    app_id text NOT NULL,
    access_token text NOT NULL,
    expires_at timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, app_id)
);

ALTER TABLE routing.channel_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing.channel_users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing.channel_users
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
ALTER TABLE routing.channel_inbound ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing.channel_inbound FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing.channel_inbound
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
ALTER TABLE routing.channel_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing.channel_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing.channel_deliveries
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
ALTER TABLE routing.wechat_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing.wechat_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing.wechat_tokens
    USING (tenant_id = kefu.current_tenant()) WITH CHECK (tenant_id = kefu.current_tenant());
GRANT SELECT, INSERT, UPDATE ON routing.channel_users TO kefu_service;
GRANT SELECT, INSERT ON routing.channel_inbound TO kefu_service;
GRANT SELECT, INSERT, UPDATE ON routing.channel_deliveries TO kefu_service;
GRANT SELECT, INSERT, UPDATE ON routing.wechat_tokens TO kefu_service;
