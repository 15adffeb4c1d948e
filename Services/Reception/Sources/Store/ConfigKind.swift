/// The kinds of `reception.config_items` rows (the table's CHECK lists the same).
enum ConfigKind: String, Sendable, CaseIterable {
    case channel
    case material
    case widget
    case group
    case guideRule = "guide_rule"
    case assignmentRule = "assignment_rule"
    case quickReply = "quick_reply"
    case personalQuickReply = "personal_quick_reply"

    /// How many a tenant may have: configuration is read whole on every snapshot, so it stays
    /// bounded; the limits are far above what a reception team configures.
    var limit: Int {
        switch self {
        case .channel: 200
        case .material: 2000
        case .widget: 500
        case .group: 500
        case .guideRule, .assignmentRule: 1000
        case .quickReply: 5000
        case .personalQuickReply: 500
        }
    }

    /// Rules are evaluated in order and can be reordered.
    var isOrdered: Bool { self == .guideRule || self == .assignmentRule }
}
