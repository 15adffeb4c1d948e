import Foundation

// Routing's events, in the outbox in the same transaction as the change. The customer library
// builds contacts and trails from the visitor and conversation events, analytics its records and
// agent numbers, webhooks forward the catalogued ones. Names are the webhook catalogue's.

/// A visitor session started or resumed on a widget.
public struct VisitorSeen: KefuEvent {
    public static let eventType = "visitor.seen"
    public let visitorId: VisitorID
    @LowercaseUUID public var widgetId: UUID
    /// True the first time this visitor is seen.
    public let isNew: Bool
    public let visitCount: Int
    /// What the page reported: page URL and title, referrer, source, region, language, custom.
    public let attributes: [String: String]
    public let seenAt: Date
    public init(visitorId: VisitorID, widgetId: UUID, isNew: Bool, visitCount: Int, attributes: [String: String], seenAt: Date) {
        self.visitorId = visitorId
        self.widgetId = widgetId
        self.isNew = isNew
        self.visitCount = visitCount
        self.attributes = attributes
        self.seenAt = seenAt
    }
}

/// A page the visitor reported (the customer trail).
public struct VisitorPageViewed: KefuEvent {
    public static let eventType = "visitor.page_viewed"
    public let visitorId: VisitorID
    public let url: String
    public let title: String?
    public let referrer: String?
    public let viewedAt: Date
    public init(visitorId: VisitorID, url: String, title: String?, referrer: String?, viewedAt: Date) {
        self.visitorId = visitorId
        self.url = url
        self.title = title
        self.referrer = referrer
        self.viewedAt = viewedAt
    }
}

/// An official account's follower pressed a menu button: WeChat's CLICK (a button with a key)
/// or VIEW (a link). For the customer trail.
public struct VisitorMenuClicked: KefuEvent {
    public static let eventType = "visitor.menu_clicked"
    public let visitorId: VisitorID
    @LowercaseUUID public var channelId: UUID
    /// The button's key (`kefu_0_1`) for a click, its URL for a link.
    public let key: String
    /// The button's name, when the channel's menu has it.
    public let name: String?
    public let clickedAt: Date
    public init(visitorId: VisitorID, channelId: UUID, key: String, name: String?, clickedAt: Date) {
        self.visitorId = visitorId
        self.channelId = channelId
        self.key = key
        self.name = name
        self.clickedAt = clickedAt
    }
}

public struct ConversationCreated: KefuEvent {
    public static let eventType = "conversation.created"
    public let conversationId: ConversationID
    public let visitorId: VisitorID
    @LowercaseUUID public var widgetId: UUID?
    /// `web`, `wechat_official_account`, … (the channel type).
    public let channel: String
    public let createdAt: Date
    public init(conversationId: ConversationID, visitorId: VisitorID, widgetId: UUID?, channel: String, createdAt: Date) {
        self.conversationId = conversationId
        self.visitorId = visitorId
        self.widgetId = widgetId
        self.channel = channel
        self.createdAt = createdAt
    }
}

public struct ConversationQueued: KefuEvent {
    public static let eventType = "conversation.queued"
    public let conversationId: ConversationID
    @LowercaseUUID public var groupId: UUID
    public let position: Int
    public let queuedAt: Date
    public init(conversationId: ConversationID, groupId: UUID, position: Int, queuedAt: Date) {
        self.conversationId = conversationId
        self.groupId = groupId
        self.position = position
        self.queuedAt = queuedAt
    }
}

public struct ConversationAssigned: KefuEvent {
    public static let eventType = "conversation.assigned"
    public let conversationId: ConversationID
    public let agentId: EmployeeID
    @LowercaseUUID public var groupId: UUID?
    public let reason: AssignmentReason
    /// The agent who held it before (a transfer, a handover), if any.
    public let previousAgentId: EmployeeID?
    public let assignedAt: Date
    public init(conversationId: ConversationID, agentId: EmployeeID, groupId: UUID?, reason: AssignmentReason, previousAgentId: EmployeeID?, assignedAt: Date) {
        self.conversationId = conversationId
        self.agentId = agentId
        self.groupId = groupId
        self.reason = reason
        self.previousAgentId = previousAgentId
        self.assignedAt = assignedAt
    }
}

/// A conversation moved to another agent or group, with the note the sender wrote.
public struct ConversationTransferred: KefuEvent {
    public static let eventType = "conversation.transferred"
    public let conversationId: ConversationID
    public let fromAgentId: EmployeeID?
    public let toAgentId: EmployeeID?
    @LowercaseUUID public var toGroupId: UUID?
    public let forced: Bool
    public let note: String?
    public let by: EmployeeID?
    public let transferredAt: Date
    public init(conversationId: ConversationID, fromAgentId: EmployeeID?, toAgentId: EmployeeID?, toGroupId: UUID?, forced: Bool, note: String?, by: EmployeeID?, transferredAt: Date) {
        self.conversationId = conversationId
        self.fromAgentId = fromAgentId
        self.toAgentId = toAgentId
        self.toGroupId = toGroupId
        self.forced = forced
        self.note = note
        self.by = by
        self.transferredAt = transferredAt
    }
}

public struct MessageCreated: KefuEvent {
    public static let eventType = "message.created"
    public let conversationId: ConversationID
    @LowercaseUUID public var messageId: UUID
    public let seq: Int64
    public let sender: MessageSender
    /// The agent, for agent messages.
    public let senderId: EmployeeID?
    public let body: MessageBody
    /// Guide-rule pushes and automatic replies are not a human's answer (analytics' first response).
    public let automatic: Bool
    public let createdAt: Date
    public init(conversationId: ConversationID, messageId: UUID, seq: Int64, sender: MessageSender, senderId: EmployeeID?, body: MessageBody, automatic: Bool, createdAt: Date) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.seq = seq
        self.sender = sender
        self.senderId = senderId
        self.body = body
        self.automatic = automatic
        self.createdAt = createdAt
    }
}

public struct ConversationEnded: KefuEvent {
    public static let eventType = "conversation.ended"
    public let conversationId: ConversationID
    public let reason: EndReason
    public let agentId: EmployeeID?
    public let by: EmployeeID?
    public let endedAt: Date
    public init(conversationId: ConversationID, reason: EndReason, agentId: EmployeeID?, by: EmployeeID?, endedAt: Date) {
        self.conversationId = conversationId
        self.reason = reason
        self.agentId = agentId
        self.by = by
        self.endedAt = endedAt
    }
}

/// The holding agent set the conversation's topic (会话主题) or its resolved status.
public struct ConversationUpdated: KefuEvent {
    public static let eventType = "conversation.updated"
    public let conversationId: ConversationID
    public let topic: String?
    public let resolved: Bool?
    public let by: EmployeeID
    public let updatedAt: Date
    public init(conversationId: ConversationID, topic: String?, resolved: Bool?, by: EmployeeID, updatedAt: Date) {
        self.conversationId = conversationId
        self.topic = topic
        self.resolved = resolved
        self.by = by
        self.updatedAt = updatedAt
    }
}

public struct SatisfactionRated: KefuEvent {
    public static let eventType = "satisfaction.rated"
    public let conversationId: ConversationID
    public let agentId: EmployeeID?
    public let stars: Int
    public let labels: [String]
    public let solved: Bool?
    public let comment: String?
    public let ratedAt: Date
    public init(conversationId: ConversationID, agentId: EmployeeID?, stars: Int, labels: [String], solved: Bool?, comment: String?, ratedAt: Date) {
        self.conversationId = conversationId
        self.agentId = agentId
        self.stars = stars
        self.labels = labels
        self.solved = solved
        self.comment = comment
        self.ratedAt = ratedAt
    }
}

/// An agent's online status or reception switch changed (analytics' online and reception-on durations).
public struct AgentStateChanged: KefuEvent {
    public static let eventType = "agent.state_changed"
    public let agentId: EmployeeID
    public let status: AgentStatus
    public let reception: ReceptionSwitch
    public let previousStatus: AgentStatus
    public let previousReception: ReceptionSwitch
    public let changedAt: Date
    public init(agentId: EmployeeID, status: AgentStatus, reception: ReceptionSwitch, previousStatus: AgentStatus, previousReception: ReceptionSwitch, changedAt: Date) {
        self.agentId = agentId
        self.status = status
        self.reception = reception
        self.previousStatus = previousStatus
        self.previousReception = previousReception
        self.changedAt = changedAt
    }
}

/// Published by the customer library: who owns a customer now (routing's "owner first").
/// `visitorIds` are the web visitors known to be this customer.
public struct CustomerOwnerChanged: KefuEvent {
    public static let eventType = "customer.owner_changed"
    @LowercaseUUID public var customerId: UUID
    public let ownerId: EmployeeID?
    @LowercaseUUID public var ownerTeamId: UUID?
    public let visitorIds: [VisitorID]
    public init(customerId: UUID, ownerId: EmployeeID?, ownerTeamId: UUID?, visitorIds: [VisitorID]) {
        self.customerId = customerId
        self.ownerId = ownerId
        self.ownerTeamId = ownerTeamId
        self.visitorIds = visitorIds
    }
}
