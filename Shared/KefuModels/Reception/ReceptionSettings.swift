import Foundation

/// When no agent can take a visitor (DOMAIN.md §2): per tenant, and per widget where set.
public struct FallbackPolicy: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable {
        case queue
        /// 引导留言: ask the visitor to leave a message.
        case leaveMessage = "leave_message"
        /// 大模型机器人: a bot answers first.
        case bot
    }

    public var mode: Mode
    /// Used when `mode` is `queue`.
    public var queue: QueuePolicy
    /// Shown when the visitor is asked to leave a message (also when the queue is full).
    public var leaveMessagePrompt: String

    public init(mode: Mode = .queue, queue: QueuePolicy = QueuePolicy(), leaveMessagePrompt: String = "All our agents are busy. Leave a message and we will get back to you.") {
        self.mode = mode
        self.queue = queue
        self.leaveMessagePrompt = leaveMessagePrompt
    }
}

/// How assignment rules are applied.
public struct AssignmentSettings: Codable, Sendable, Equatable {
    /// 归属人优先接待: a customer with an owner goes to that owner when they are available.
    public var ownerFirst: Bool
    /// Tried when no rule matches; nil means any available agent of the tenant.
    public var defaultTarget: AssignmentTarget?

    public init(ownerFirst: Bool = true, defaultTarget: AssignmentTarget? = nil) {
        self.ownerFirst = ownerFirst
        self.defaultTarget = defaultTarget
    }
}

/// 会话管理配置.
public struct ConversationSettings: Codable, Sendable, Equatable {
    /// A conversation without messages for this long ends.
    public var timeoutMinutes: Int
    /// Topics agents attach to conversations (会话主题).
    public var topics: [String]
    public var highQuality: HighQualityDefinition
    /// The tenant's clock (an IANA name): rules on `visitor.visit_time` read the visitor's arrival
    /// in it, and analytics cut days by it.
    public var timeZone: String

    public static let defaultTimeZone = "Asia/Shanghai"

    public init(
        timeoutMinutes: Int = 30, topics: [String] = [], highQuality: HighQualityDefinition = HighQualityDefinition(),
        timeZone: String = ConversationSettings.defaultTimeZone
    ) {
        self.timeoutMinutes = timeoutMinutes
        self.topics = topics
        self.highQuality = highQuality
        self.timeZone = timeZone
    }

    enum CodingKeys: String, CodingKey { case timeoutMinutes, topics, highQuality, timeZone }

    /// Documents stored before the time zone existed read as the default one.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        timeoutMinutes = try container.decode(Int.self, forKey: .timeoutMinutes)
        topics = try container.decode([String].self, forKey: .topics)
        highQuality = try container.decode(HighQualityDefinition.self, forKey: .highQuality)
        timeZone = try container.decodeIfPresent(String.self, forKey: .timeZone) ?? Self.defaultTimeZone
    }
}

/// What makes a conversation high-quality (优质会话) for analytics: every set bound must hold.
public struct HighQualityDefinition: Codable, Sendable, Equatable {
    public var minVisitorMessages: Int
    public var minAgentMessages: Int
    /// The first agent reply within this many seconds.
    public var maxFirstResponseSeconds: Int?
    /// Rated at least this many stars, when rated.
    public var minSatisfactionStars: Int?

    public init(minVisitorMessages: Int = 3, minAgentMessages: Int = 3, maxFirstResponseSeconds: Int? = 60, minSatisfactionStars: Int? = 4) {
        self.minVisitorMessages = minVisitorMessages
        self.minAgentMessages = minAgentMessages
        self.maxFirstResponseSeconds = maxFirstResponseSeconds
        self.minSatisfactionStars = minSatisfactionStars
    }
}

/// 满意度调查.
public struct SatisfactionSurvey: Codable, Sendable, Equatable {
    public enum Trigger: String, Codable, Sendable {
        /// When the agent ends the conversation.
        case agentEnds = "agent_ends"
        /// When the agent asks for it during the conversation.
        case agentInvites = "agent_invites"
    }

    public var enabled: Bool
    /// Exactly five levels, stars 1 to 5, each with its title and the labels a visitor may tick.
    public var levels: [SatisfactionLevel]
    /// Ask "was your problem solved?".
    public var askSolved: Bool
    public var sendWhen: [Trigger]

    public init(enabled: Bool = true, levels: [SatisfactionLevel] = SatisfactionLevel.defaults, askSolved: Bool = true, sendWhen: [Trigger] = [.agentEnds, .agentInvites]) {
        self.enabled = enabled
        self.levels = levels
        self.askSolved = askSolved
        self.sendWhen = sendWhen
    }
}

public struct SatisfactionLevel: Codable, Sendable, Equatable {
    public var stars: Int
    public var title: String
    public var labels: [String]

    public init(stars: Int, title: String, labels: [String]) {
        self.stars = stars
        self.title = title
        self.labels = labels
    }

    public static let defaults = [
        SatisfactionLevel(stars: 1, title: "Very dissatisfied", labels: ["Rude", "Slow response", "Problem not solved"]),
        SatisfactionLevel(stars: 2, title: "Dissatisfied", labels: ["Slow response", "Unclear answers"]),
        SatisfactionLevel(stars: 3, title: "Neutral", labels: ["Could be faster"]),
        SatisfactionLevel(stars: 4, title: "Satisfied", labels: ["Fast response", "Professional"]),
        SatisfactionLevel(stars: 5, title: "Very satisfied", labels: ["Attentive", "Fast response", "Professional"]),
    ]
}

/// Not losing visitors (DOMAIN.md §2): anti-leak reminders (防漏客), proactive invitations
/// (主动邀请会话) and lead capture (留资).
public struct EngagementSettings: Codable, Sendable, Equatable {
    public var antiLeak: AntiLeakReminder
    public var invitation: ProactiveInvitation
    public var leadCapture: LeadCapture

    public init(antiLeak: AntiLeakReminder = AntiLeakReminder(), invitation: ProactiveInvitation = ProactiveInvitation(), leadCapture: LeadCapture = LeadCapture()) {
        self.antiLeak = antiLeak
        self.invitation = invitation
        self.leadCapture = leadCapture
    }
}

/// Remind the agent when a visitor's message has waited this long for an answer.
public struct AntiLeakReminder: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var remindAfterSeconds: Int

    public init(enabled: Bool = true, remindAfterSeconds: Int = 60) {
        self.enabled = enabled
        self.remindAfterSeconds = remindAfterSeconds
    }
}

/// Invite a web visitor to chat after they have spent a while on a page.
public struct ProactiveInvitation: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var delaySeconds: Int
    public var message: String
    /// Invitations per visit at most (a declined one is not repeated beyond this).
    public var maxPerVisit: Int

    public init(enabled: Bool = false, delaySeconds: Int = 30, message: String = "Hello! Can we help you with anything?", maxPerVisit: Int = 1) {
        self.enabled = enabled
        self.delaySeconds = delaySeconds
        self.message = message
        self.maxPerVisit = maxPerVisit
    }
}

/// Ask the visitor for contact details, which become a customer in the library.
public struct LeadCapture: Codable, Sendable, Equatable {
    public enum Moment: String, Codable, Sendable {
        case beforeChat = "before_chat"
        /// When no agent can take the visitor (with the leave-a-message fallback).
        case noAgent = "no_agent"
        case whenLeaving = "when_leaving"
    }

    public enum Field: String, Codable, Sendable {
        case name, phone, email, company, wechat, qq
    }

    public struct Question: Codable, Sendable, Equatable {
        public var field: Field
        public var required: Bool

        public init(field: Field, required: Bool) {
            self.field = field
            self.required = required
        }
    }

    public var enabled: Bool
    public var when: [Moment]
    public var prompt: String
    public var questions: [Question]

    public init(
        enabled: Bool = false, when: [Moment] = [.noAgent], prompt: String = "Leave your details and we will contact you.",
        questions: [Question] = [Question(field: .name, required: false), Question(field: .phone, required: true)]
    ) {
        self.enabled = enabled
        self.when = when
        self.prompt = prompt
        self.questions = questions
    }
}
