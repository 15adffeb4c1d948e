import Foundation

/// An administrative change made in a service other than accounts, for the tenant's one audit
/// log (accounts keeps it). Published in the transaction of the change itself.
public struct AuditRecorded: KefuEvent {
    public static let eventType = "audit.recorded"
    /// `employee`, `api_key` or `platform`.
    public let actorType: String
    @LowercaseUUID public var actorId: UUID?
    public let ip: String?
    public let requestId: String?
    /// Dotted, service first: `reception.widget.updated`.
    public let action: String
    public let targetType: String?
    public let targetId: String?
    /// The target's API views as JSON text (secrets never included).
    public let before: String?
    public let after: String?

    public init(
        actorType: String, actorId: UUID?, ip: String?, requestId: String?, action: String,
        targetType: String?, targetId: String?, before: String?, after: String?
    ) {
        self.actorType = actorType
        self.actorId = actorId
        self.ip = ip
        self.requestId = requestId
        self.action = action
        self.targetType = targetType
        self.targetId = targetId
        self.before = before
        self.after = after
    }
}
