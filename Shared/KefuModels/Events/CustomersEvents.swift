import Foundation

// The customer library's events, in the outbox in the same transaction as the change. Routing
// follows owners (`customer.owner_changed`, in RoutingEvents.swift, where routing agreed it) and
// merges; reception follows fields (`customer_field.changed`, in ReceptionEvents.swift); analytics
// and webhooks follow the rest.

/// A customer or contact was created: by an agent or an import (`entered`), or as a contact from
/// routing's visitor events.
public struct CustomerCreated: KefuEvent {
    public static let eventType = "customer.created"
    @LowercaseUUID public var customerId: UUID
    public let entered: Bool
    public let by: EmployeeID?
    public init(customerId: UUID, entered: Bool, by: EmployeeID?) {
        self.customerId = customerId
        self.entered = entered
        self.by = by
    }
}

/// Profile fields changed; `fields` names them as the API does (`name`, `phones`, `custom.<api_name>`…).
public struct CustomerUpdated: KefuEvent {
    public static let eventType = "customer.updated"
    @LowercaseUUID public var customerId: UUID
    public let fields: [String]
    public let by: EmployeeID?
    public init(customerId: UUID, fields: [String], by: EmployeeID?) {
        self.customerId = customerId
        self.fields = fields
        self.by = by
    }
}

/// A contact was added to the library (入库): by an employee, or by an automatic entry rule.
public struct CustomerEntered: KefuEvent {
    public static let eventType = "customer.entered"
    @LowercaseUUID public var customerId: UUID
    public let by: EmployeeID?
    @LowercaseUUID public var ruleId: UUID?
    public init(customerId: UUID, by: EmployeeID?, ruleId: UUID? = nil) {
        self.customerId = customerId
        self.by = by
        self.ruleId = ruleId
    }
}

/// What routing reported about a customer was applied: a conversation received or ended, a visit.
public struct CustomerReceptionRecorded: KefuEvent {
    public static let eventType = "customer.reception_recorded"
    @LowercaseUUID public var customerId: UUID
    public let receptionCount: Int
    public let lastReceptionAt: Date?
    public init(customerId: UUID, receptionCount: Int, lastReceptionAt: Date?) {
        self.customerId = customerId
        self.receptionCount = receptionCount
        self.lastReceptionAt = lastReceptionAt
    }
}

public struct CustomerDeleted: KefuEvent {
    public static let eventType = "customer.deleted"
    @LowercaseUUID public var customerId: UUID
    public let visitorIds: [VisitorID]
    public let by: EmployeeID?
    public init(customerId: UUID, visitorIds: [VisitorID], by: EmployeeID?) {
        self.customerId = customerId
        self.visitorIds = visitorIds
        self.by = by
    }
}

/// Customers were merged into `survivorId` (manually, or on a strong identifier): routing and
/// analytics re-point their references from `mergedIds`. `visitorIds` are all the survivor's
/// web visitors now.
public struct CustomerMerged: KefuEvent {
    public static let eventType = "customer.merged"
    @LowercaseUUID public var mergeId: UUID
    @LowercaseUUID public var survivorId: UUID
    @LowercaseUUID public var mergedIds: [UUID]
    /// `manual` or `identity`.
    public let reason: String
    public let visitorIds: [VisitorID]
    public let by: EmployeeID?
    public init(mergeId: UUID, survivorId: UUID, mergedIds: [UUID], reason: String, visitorIds: [VisitorID], by: EmployeeID?) {
        self.mergeId = mergeId
        self.survivorId = survivorId
        self.mergedIds = mergedIds
        self.reason = reason
        self.visitorIds = visitorIds
        self.by = by
    }
}

/// A custom customer view was created, changed or deleted.
public struct CustomerViewChanged: KefuEvent {
    public static let eventType = "customer_view.changed"
    @LowercaseUUID public var viewId: UUID
    /// False when the view was deleted.
    public let exists: Bool
    public init(viewId: UUID, exists: Bool) {
        self.viewId = viewId
        self.exists = exists
    }
}

/// A follow-up record (跟进记录) was written for a customer.
public struct CustomerFollowedUp: KefuEvent {
    public static let eventType = "customer.followed_up"
    @LowercaseUUID public var customerId: UUID
    @LowercaseUUID public var followUpId: UUID
    public let authorId: EmployeeID?
    public let at: Date
    public init(customerId: UUID, followUpId: UUID, authorId: EmployeeID?, at: Date) {
        self.customerId = customerId
        self.followUpId = followUpId
        self.authorId = authorId
        self.at = at
    }
}

/// An employee set or removed their private remark name or favourite for a customer. The name
/// itself is not in the event: it is visible to its author only.
public struct CustomerPersonalMarkChanged: KefuEvent {
    public static let eventType = "customer.personal_mark_changed"
    @LowercaseUUID public var customerId: UUID
    public let employeeId: EmployeeID
    /// `private_remark` or `favourite`.
    public let mark: String
    public let present: Bool
    public init(customerId: UUID, employeeId: EmployeeID, mark: String, present: Bool) {
        self.customerId = customerId
        self.employeeId = employeeId
        self.mark = mark
        self.present = present
    }
}

/// An automatic entry rule or a value-scoring rule was created, changed or deleted.
public struct CustomerRuleChanged: KefuEvent {
    public static let eventType = "customer_rule.changed"
    /// `entry` or `scoring`.
    public let kind: String
    @LowercaseUUID public var ruleId: UUID
    public let exists: Bool
    public init(kind: String, ruleId: UUID, exists: Bool) {
        self.kind = kind
        self.ruleId = ruleId
        self.exists = exists
    }
}

/// A library setting changed (`library`: follow-up statuses and funnel stages).
public struct CustomerSettingsChanged: KefuEvent {
    public static let eventType = "customer_settings.changed"
    public let key: String
    public init(key: String) { self.key = key }
}

/// A customer's funnel stage (漏斗阶段, DOMAIN §4: initial contact → … → deal closed, per tenant)
/// changed: set on creation or import, edited, or filled by a merge. Analytics builds the
/// customer funnel from these alone (docs/ANALYTICS.md), so each carries what the funnel is cut by
/// at the moment of the change.
public struct CustomerStageChanged: KefuEvent {
    public static let eventType = "customer.stage_changed"
    @LowercaseUUID public var customerId: UUID
    /// The owner employee at the change (none in a pool): the funnel credits the customer to them.
    public let ownerId: EmployeeID?
    /// The channel of the customer's first reception (routing's `web`, `wechat` …); none for a
    /// customer that never came through one (created by hand or imported).
    public let channel: String?
    /// The customer's source field (an ad campaign …), as it was at the change.
    public let source: String?
    /// The stages' keys, none when unset.
    public let stageBefore: String?
    public let stageAfter: String?
    /// Each stage's place (0-based) in the tenant's funnel at the change; none when unset or no
    /// longer listed.
    public let positionBefore: Int?
    public let positionAfter: Int?
    /// Whether the new stage is the funnel's last one: the deal is closed (成交).
    public let won: Bool
    public let at: Date
    public let by: EmployeeID?
    public init(
        customerId: UUID, ownerId: EmployeeID?, channel: String?, source: String?, stageBefore: String?, stageAfter: String?,
        positionBefore: Int?, positionAfter: Int?, won: Bool, at: Date, by: EmployeeID?
    ) {
        self.customerId = customerId
        self.ownerId = ownerId
        self.channel = channel
        self.source = source
        self.stageBefore = stageBefore
        self.stageAfter = stageAfter
        self.positionBefore = positionBefore
        self.positionAfter = positionAfter
        self.won = won
        self.at = at
        self.by = by
    }
}
