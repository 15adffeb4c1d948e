import Foundation

/// The type of a field a condition may test; it decides the operators and values allowed.
public enum FieldType: String, Codable, Sendable {
    case text
    case number
    /// A calendar day, `YYYY-MM-DD`.
    case date
    /// An RFC 3339 instant.
    case dateTime = "date_time"
    /// A time of day, `HH:mm` (e.g. the visit time); `between` may wrap midnight.
    case timeOfDay = "time_of_day"
    case boolean
    case singleChoice = "single_choice"
    /// A set of values: tags, multiple-choice custom fields.
    case multiChoice = "multi_choice"

    public var operators: Set<ConditionOperator> {
        let presence: Set<ConditionOperator> = [.isEmpty, .isNotEmpty]
        switch self {
        case .text: return presence.union([.equals, .notEquals, .contains, .notContains, .startsWith, .in, .notIn])
        case .number: return presence.union([.equals, .notEquals, .greaterThan, .greaterOrEqual, .lessThan, .lessOrEqual, .between])
        case .date, .dateTime: return presence.union([.equals, .before, .after, .between])
        case .timeOfDay: return [.before, .after, .between]
        case .boolean: return [.equals]
        case .singleChoice: return presence.union([.equals, .notEquals, .in, .notIn])
        case .multiChoice: return presence.union([.containsAny, .containsAll, .containsNone])
        }
    }
}

public struct FieldDefinition: Codable, Sendable, Equatable {
    public let key: String
    public let type: FieldType
    /// The allowed values of a choice field; nil when any value goes (tags).
    public let choices: [String]?

    public init(key: String, type: FieldType, choices: [String]? = nil) {
        self.key = key
        self.type = type
        self.choices = choices
    }
}

/// The fields rules may test: built-in visitor and customer attributes plus the tenant's custom
/// customer fields (`custom.<api_name>`).
public struct FieldCatalogue: Sendable {
    public let fields: [String: FieldDefinition]
    /// Each field's position in `ConditionFacts`: evaluation indexes an array, not a dictionary.
    let slots: [String: Int]

    public init(_ fields: [FieldDefinition]) {
        self.fields = Dictionary(fields.map { ($0.key, $0) }) { first, _ in first }
        self.slots = Dictionary(uniqueKeysWithValues: self.fields.keys.sorted().enumerated().map { ($1, $0) })
    }

    public static let builtIn: [FieldDefinition] = [
        FieldDefinition(key: "visitor.channel", type: .singleChoice,
                        choices: ["web", "wechat_official_account", "mini_program", "wechat_customer_service", "qq_enterprise", "qq_employee", "partner"]),
        FieldDefinition(key: "visitor.widget_id", type: .text),
        FieldDefinition(key: "visitor.page_url", type: .text),
        FieldDefinition(key: "visitor.source_ad", type: .text),
        FieldDefinition(key: "visitor.region", type: .text),
        FieldDefinition(key: "visitor.visit_time", type: .timeOfDay),
        FieldDefinition(key: "visitor.visit_count", type: .number),
        FieldDefinition(key: "customer.tags", type: .multiChoice),
        FieldDefinition(key: "customer.gender", type: .singleChoice, choices: ["male", "female", "unknown"]),
        FieldDefinition(key: "customer.age", type: .number),
        FieldDefinition(key: "customer.birthday", type: .date),
        FieldDefinition(key: "customer.education", type: .text),
        FieldDefinition(key: "customer.location", type: .text),
        FieldDefinition(key: "customer.address", type: .text),
        FieldDefinition(key: "customer.company", type: .text),
        FieldDefinition(key: "customer.title", type: .text),
        FieldDefinition(key: "customer.status", type: .text),
        FieldDefinition(key: "customer.date_added", type: .dateTime),
        FieldDefinition(key: "customer.remark", type: .text),
        FieldDefinition(key: "customer.has_owner", type: .boolean),
    ]

    /// Built-in fields plus the tenant's custom ones.
    public static func with(customFields: [FieldDefinition]) -> FieldCatalogue {
        FieldCatalogue(builtIn + customFields.map {
            FieldDefinition(key: $0.key.hasPrefix("custom.") ? $0.key : "custom.\($0.key)", type: $0.type, choices: $0.choices)
        })
    }
}
