import Foundation

// Routing's events about channels other than the web (partner channels, WeChat official
// accounts). Channel users are visitors without a widget; these events say who they are on their
// channel, and carry what goes out to a partner.

/// A channel user (a partner's user id, a follower's openid) reached routing: the customer
/// library makes them a contact known by that identity (`partner` / `wechat_openid`, within the
/// channel) and by their visitor id. Published again (`isNew` false) when the partner names
/// identities of the user it had not named before: a strong one (a phone, a unionid) that
/// another customer holds means the same person, and the library merges the two.
public struct ChannelUserSeen: KefuEvent {
    public static let eventType = "channel_user.seen"
    public let visitorId: VisitorID
    @LowercaseUUID public var channelId: UUID
    /// `partner`, `wechat_official_account`.
    public let channelType: String
    /// The id on the channel: the partner's user id, the follower's openid.
    public let externalId: String
    public let isNew: Bool
    public let seenAt: Date
    /// Every identity the channel has named for this user so far (absent before they existed).
    public let identities: [ChannelUserIdentity]?
    public init(
        visitorId: VisitorID, channelId: UUID, channelType: String, externalId: String, isNew: Bool, seenAt: Date,
        identities: [ChannelUserIdentity] = []
    ) {
        self.visitorId = visitorId
        self.channelId = channelId
        self.channelType = channelType
        self.externalId = externalId
        self.isNew = isNew
        self.seenAt = seenAt
        self.identities = identities
    }
}

/// An identity a channel names for its user beyond its own id, in the customer library's kinds.
public struct ChannelUserIdentity: Codable, Sendable, Hashable {
    /// The kinds a partner may name: identifiers that mean something outside its channel.
    public static let kinds: Set<String> = ["phone", "email", "wechat_unionid", "qq"]
    public let kind: String
    public let externalId: String
    public init(kind: String, externalId: String) {
        self.kind = kind
        self.externalId = externalId
    }
}

/// An agent's or the system's message in a partner channel's conversation, for the partner:
/// accounts delivers `message` to `endpoint` as a signed webhook (Standard Webhooks, with the
/// retries and log of every webhook), `message` being the Standard Webhooks `data`.
///
/// Routing reads the channel's outbound URL and token from reception (the only service
/// holding them) and hands them on here, the signing secret sealed with the platform's
/// `SecretBox` key: accounts delivers without asking reception anything, and the outbox never
/// holds a secret in clear. The endpoint part is never sent to the partner.
public struct PartnerChannelMessage: KefuEvent {
    public static let eventType = "channel.message"

    public struct Endpoint: Codable, Sendable {
        public let url: String
        /// `whsec_…`, sealed (`SecretBox`).
        public let sealedSecret: String
        public init(url: String, sealedSecret: String) {
            self.url = url
            self.sealedSecret = sealedSecret
        }
    }

    /// What the partner receives as `data`.
    public struct Message: Codable, Sendable {
        @LowercaseUUID public var channelId: UUID
        public let conversationId: ConversationID
        @LowercaseUUID public var messageId: UUID
        public let seq: Int64
        /// The partner's own user id: who the message is for.
        public let userId: String
        public let sender: MessageSender
        public let senderId: EmployeeID?
        public let body: MessageBody
        public let automatic: Bool
        public let createdAt: Date
        public init(
            channelId: UUID, conversationId: ConversationID, messageId: UUID, seq: Int64, userId: String, sender: MessageSender,
            senderId: EmployeeID?, body: MessageBody, automatic: Bool, createdAt: Date
        ) {
            self.channelId = channelId
            self.conversationId = conversationId
            self.messageId = messageId
            self.seq = seq
            self.userId = userId
            self.sender = sender
            self.senderId = senderId
            self.body = body
            self.automatic = automatic
            self.createdAt = createdAt
        }
    }

    @LowercaseUUID public var channelId: UUID
    public let endpoint: Endpoint
    public let message: Message
    public init(channelId: UUID, endpoint: Endpoint, message: Message) {
        self.channelId = channelId
        self.endpoint = endpoint
        self.message = message
    }
}

/// A message the channel refused for good (WeChat 45015: outside the 48-hour window; 45047:
/// over the quota; or another final error): the agent is told, and nothing retries it.
public struct ChannelMessageFailed: KefuEvent {
    public static let eventType = "channel.message_failed"
    public let conversationId: ConversationID
    @LowercaseUUID public var messageId: UUID
    @LowercaseUUID public var channelId: UUID
    public let errorCode: Int?
    public let reason: String
    public let failedAt: Date
    public init(conversationId: ConversationID, messageId: UUID, channelId: UUID, errorCode: Int?, reason: String, failedAt: Date) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.channelId = channelId
        self.errorCode = errorCode
        self.reason = reason
        self.failedAt = failedAt
    }
}
