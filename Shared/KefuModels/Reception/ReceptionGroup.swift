import Foundation

/// A reception group (接待分组): agents who share a queue.
public struct ReceptionGroup: Codable, Sendable, Equatable {
    public var name: String
    @LowercaseUUID public var memberIds: [UUID]
    /// How many conversations one member takes at once.
    public var perAgentLimit: Int
    public var queue: QueuePolicy

    public init(name: String, memberIds: [UUID], perAgentLimit: Int, queue: QueuePolicy) {
        self.name = name
        self.memberIds = memberIds
        self.perAgentLimit = perAgentLimit
        self.queue = queue
    }

    public static let maxMembers = 500
}

/// Waiting for an agent: how many may wait, and for how long, before the fallback applies.
public struct QueuePolicy: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var maxLength: Int
    public var maxWaitSeconds: Int

    public init(enabled: Bool = true, maxLength: Int = 50, maxWaitSeconds: Int = 600) {
        self.enabled = enabled
        self.maxLength = maxLength
        self.maxWaitSeconds = maxWaitSeconds
    }
}
