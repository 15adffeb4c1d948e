import Foundation

/// Where visitors arrive from (接待通路).
public enum ChannelType: String, Codable, Sendable, CaseIterable {
    case web
    case wechatOfficialAccount = "wechat_official_account"
    case miniProgram = "mini_program"
    case wechatCustomerService = "wechat_customer_service"
    case qqEnterprise = "qq_enterprise"
    case qqEmployee = "qq_employee"
    case partner

    /// The credential keys a channel of this type must be given (all secret at rest).
    public var credentialKeys: [String] {
        switch self {
        case .web: []
        case .wechatOfficialAccount: ["app_id", "app_secret", "token", "encoding_aes_key"]
        case .miniProgram: ["app_id", "app_secret", "token", "encoding_aes_key"]
        case .wechatCustomerService: ["corp_id", "secret", "token", "encoding_aes_key"]
        case .qqEnterprise, .qqEmployee: ["app_id", "app_secret"]
        case .partner: ["token"]
        }
    }

    /// Credential keys a channel of this type may also be given: the EncodingAESKey before the
    /// last rotation, still accepted on inbound messages while WeChat switches over.
    public var optionalCredentialKeys: [String] {
        switch self {
        case .wechatOfficialAccount: ["previous_encoding_aes_key"]
        default: []
        }
    }
}

/// A channel as configured. `credentials` holds masked values (`••••abcd`) everywhere it is
/// read; the real ones are sealed in the database and only the channel gateways open them.
public struct Channel: Codable, Sendable, Equatable {
    public var name: String
    public var type: ChannelType
    public var enabled: Bool
    /// Partner channels: where Kefu delivers outgoing messages.
    public var outboundUrl: String?
    public var credentials: [String: String]?

    public init(name: String, type: ChannelType, enabled: Bool = true, outboundUrl: String? = nil, credentials: [String: String]? = nil) {
        self.name = name
        self.type = type
        self.enabled = enabled
        self.outboundUrl = outboundUrl
        self.credentials = credentials
    }

    /// A tenant binds at most this many WeChat official accounts (DOMAIN.md §2).
    public static let officialAccountLimit = 20
}

/// An official account's automatic answers: keyword replies (first match wins), the reply to
/// any other message, and the custom menu. Replaced as a whole, like WeChat's own menu API.
public struct ChannelAutoReply: Codable, Sendable, Equatable {
    public var keywordReplies: [KeywordReply]
    public var messageReply: MessageContent?
    public var menu: [MenuItem]
    /// A follower's message that no keyword matches (and that is not part of a conversation
    /// already) opens a conversation with an agent; otherwise it only gets the message reply.
    public var unmatchedToAgent: Bool

    public init(keywordReplies: [KeywordReply] = [], messageReply: MessageContent? = nil, menu: [MenuItem] = [], unmatchedToAgent: Bool = false) {
        self.keywordReplies = keywordReplies
        self.messageReply = messageReply
        self.menu = menu
        self.unmatchedToAgent = unmatchedToAgent
    }

    enum CodingKeys: String, CodingKey { case keywordReplies, messageReply, menu, unmatchedToAgent }

    /// Documents stored before `unmatched_to_agent` existed read it as false.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        keywordReplies = try container.decode([KeywordReply].self, forKey: .keywordReplies)
        messageReply = try container.decodeIfPresent(MessageContent.self, forKey: .messageReply)
        menu = try container.decode([MenuItem].self, forKey: .menu)
        unmatchedToAgent = try container.decodeIfPresent(Bool.self, forKey: .unmatchedToAgent) ?? false
    }
}

public struct KeywordReply: Codable, Sendable, Equatable {
    public enum Match: String, Codable, Sendable { case exact, contains }
    public var keyword: String
    public var match: Match
    public var reply: MessageContent

    public init(keyword: String, match: Match, reply: MessageContent) {
        self.keyword = keyword
        self.match = match
        self.reply = reply
    }
}

/// A custom-menu button: either a parent of up to five sub-items, or an action.
public struct MenuItem: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable {
        case reply
        case openUrl = "open_url"
        /// 人工客服: connect the follower to an agent.
        case connectAgent = "connect_agent"
    }

    public var name: String
    public var action: Action?
    public var reply: MessageContent?
    public var url: String?
    public var subItems: [MenuItem]?

    public init(name: String, action: Action? = nil, reply: MessageContent? = nil, url: String? = nil, subItems: [MenuItem]? = nil) {
        self.name = name
        self.action = action
        self.reply = reply
        self.url = url
        self.subItems = subItems
    }
}

/// A channel as its gateway needs it, credentials in clear: only reception's platform door
/// (`GET /v1/platform/tenants/{tenant}/channels/{id}`) produces it, for routing's channel
/// gateways and accounts' partner-channel deliveries. Never stored, logged or published.
public struct ChannelGateway: Codable, Sendable {
    @LowercaseUUID public var id: UUID
    public var type: ChannelType
    public var enabled: Bool
    public var outboundUrl: String?
    public var credentials: [String: String]
    public var updatedAt: Date

    public init(id: UUID, type: ChannelType, enabled: Bool, outboundUrl: String?, credentials: [String: String], updatedAt: Date) {
        self.id = id
        self.type = type
        self.enabled = enabled
        self.outboundUrl = outboundUrl
        self.credentials = credentials
        self.updatedAt = updatedAt
    }
}
