import Foundation

/// Published in the same transaction as every reception configuration write: routing replicas
/// holding an older `version` fetch the snapshot again.
public struct ReceptionConfigChanged: KefuEvent {
    public static let eventType = "reception.config_changed"
    /// What changed: `channel`, `material`, `widget`, `group`, `guide_rule`, `assignment_rule`,
    /// `quick_reply`, `personal_quick_reply`, `auto_reply`, or a settings key (`settings.fallback`…).
    public let kind: String
    /// The item, when one item changed (absent for settings and reorders).
    @LowercaseUUID public var id: UUID?
    /// `created`, `updated`, `deleted`, `reordered`, or `members_changed` (accounts events).
    public let action: String
    /// The tenant's configuration version after this change.
    public let version: Int64

    public init(kind: String, id: UUID?, action: String, version: Int64) {
        self.kind = kind
        self.id = id
        self.action = action
        self.version = version
    }
}

/// A customer custom field was defined, changed or removed (published by the customer library;
/// reception lets rules test `custom.<api_name>`).
public struct CustomerFieldChanged: KefuEvent {
    public static let eventType = "customer_field.changed"
    public let apiName: String
    public let type: FieldType
    public let choices: [String]?
    /// False when the field was removed.
    public let exists: Bool

    public init(apiName: String, type: FieldType, choices: [String]?, exists: Bool) {
        self.apiName = apiName
        self.type = type
        self.choices = choices
        self.exists = exists
    }
}
