import Foundation

/// An advanced conversation guide rule (高级会话引导规则): when its conditions match a visitor,
/// its messages are pushed, each after its interval, before the conversation is assigned.
public struct GuideRule: Codable, Sendable, Equatable {
    public var name: String
    public var enabled: Bool
    public var conditions: ConditionSet
    public var messages: [PushMessage]

    public init(name: String, enabled: Bool = true, conditions: ConditionSet, messages: [PushMessage]) {
        self.name = name
        self.enabled = enabled
        self.conditions = conditions
        self.messages = messages
    }

    public static let maxMessages = 10
}

public struct PushMessage: Codable, Sendable, Equatable {
    /// Seconds after the previous message (or the visitor's arrival).
    public var intervalSeconds: Int
    public var content: MessageContent

    public init(intervalSeconds: Int, content: MessageContent) {
        self.intervalSeconds = intervalSeconds
        self.content = content
    }
}

/// An advanced assignment rule (高级分配规则). Rules run in order; the first enabled rule whose
/// conditions match decides, trying its targets in order.
public struct AssignmentRule: Codable, Sendable, Equatable {
    public var name: String
    public var enabled: Bool
    public var conditions: ConditionSet
    public var targets: [AssignmentTarget]

    public init(name: String, enabled: Bool = true, conditions: ConditionSet, targets: [AssignmentTarget]) {
        self.name = name
        self.enabled = enabled
        self.conditions = conditions
        self.targets = targets
    }

    public static let maxTargets = 10
}

public struct AssignmentTarget: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case group
        case agent
        /// The customer's owner (归属人), when they have one and are available.
        case owner
    }

    public var type: Kind
    /// The group or agent; absent for `owner`.
    @LowercaseUUID public var id: UUID?

    public init(type: Kind, id: UUID? = nil) {
        self.type = type
        self.id = id
    }
}
