import Foundation

// The vocabulary routing shares with its clients (workbench, widget) and with the services that
// follow its events (customers, analytics, webhooks).

public enum Visitor {}
public enum Conversation {}
public typealias VisitorID = Identifier<Visitor>
public typealias ConversationID = Identifier<Conversation>

/// An agent's online status (在线状态).
public enum AgentStatus: String, Codable, Sendable, CaseIterable {
    case online
    /// 挂起: stays signed in; new customers get the configured automatic reply.
    case suspended
    case offline
}

/// Whether new customers are assigned to the agent (接待状态); ongoing conversations continue either way.
public enum ReceptionSwitch: String, Codable, Sendable, CaseIterable { case on, off }

public enum ConversationStatus: String, Codable, Sendable, CaseIterable {
    /// Waiting in a group's queue for a free seat.
    case queued
    /// Held by an agent.
    case open
    /// No agent could take the visitor and the fallback asks for a message (引导留言).
    case awaitingMessage = "awaiting_message"
    /// The fallback is "bot first" (大模型机器人): a placeholder state until a bot exists.
    case withBot = "with_bot"
    case ended
}

/// Who wrote a message.
public enum MessageSender: String, Codable, Sendable, CaseIterable { case visitor, agent, bot, system }

/// What a conversation message holds: exactly the fields of its `type`.
public struct MessageBody: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case text, image, file, rich }

    public var type: Kind
    /// `text`: 1 to 5000 characters.
    public var text: String?
    /// `image` and `file`: an https URL.
    public var url: String?
    /// `file`: its name and size in bytes.
    public var name: String?
    public var size: Int?
    /// `rich`: a material of reception's library (图文, image or text), by reference …
    @LowercaseUUID public var materialId: UUID?
    /// … or its articles (a guide rule's rich push).
    public var articles: [RichArticle]?

    public init(
        type: Kind, text: String? = nil, url: String? = nil, name: String? = nil, size: Int? = nil, materialId: UUID? = nil,
        articles: [RichArticle]? = nil
    ) {
        self.type = type
        self.text = text
        self.url = url
        self.name = name
        self.size = size
        self.materialId = materialId
        self.articles = articles
    }

    public static func text(_ text: String) -> MessageBody { MessageBody(type: .text, text: text) }
}

/// Why a conversation went to whom (the `reason` of `conversation.assigned`).
public enum AssignmentReason: String, Codable, Sendable, CaseIterable {
    /// 归属人优先: the customer's owner.
    case owner
    /// An advanced assignment rule matched.
    case rule
    /// The widget's group or single agent (or the navigation choice).
    case widget
    /// The assignment settings' default target.
    case defaultTarget = "default_target"
    /// A freed seat took the longest-waiting visitor.
    case queue
    case transfer
    case forcedTransfer = "forced_transfer"
    /// A business handover in accounts moved the conversation.
    case handover
    /// An agent picked up a visitor who had been asked to leave a message.
    case pickedUp = "picked_up"
}

/// Why a conversation ended (the `reason` of `conversation.ended`).
public enum EndReason: String, Codable, Sendable, CaseIterable {
    case agent, visitor, timeout
    /// A supervisor interrupted it (中断接待).
    case interrupted
    /// Removed from the queue by an admin, or the visitor left it.
    case dequeued
    /// The queue's maximum wait passed.
    case queueTimeout = "queue_timeout"
}
