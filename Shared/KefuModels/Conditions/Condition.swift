import Foundation

/// The one condition language (DOMAIN.md §2, §4): guide rules, assignment rules, automatic entry
/// rules, value-scoring rules and custom customer views all say "field, operator, value; joined
/// by all or any". Defined once here: validated against a `FieldCatalogue`, evaluated in memory
/// for rules (`CompiledConditions`); views compile it to parameterised SQL in the customer library.
public struct ConditionSet: Codable, Sendable, Equatable {
    public enum Join: String, Codable, Sendable { case all, any }

    public var join: Join
    public var conditions: [Condition]

    public init(join: Join, conditions: [Condition]) {
        self.join = join
        self.conditions = conditions
    }
}

public struct Condition: Codable, Sendable, Equatable {
    /// A catalogue key: `visitor.region`, `customer.tags`, `custom.<api_name>` …
    public var field: String
    public var op: ConditionOperator
    /// Absent for `is_empty` / `is_not_empty`; a list for `in`, `between`, `contains_any` ….
    public var value: ConditionValue?

    public init(field: String, op: ConditionOperator, value: ConditionValue? = nil) {
        self.field = field
        self.op = op
        self.value = value
    }
}

public enum ConditionOperator: String, Codable, Sendable, CaseIterable {
    case equals, notEquals = "not_equals"
    case contains, notContains = "not_contains", startsWith = "starts_with"
    case `in`, notIn = "not_in"
    case greaterThan = "greater_than", greaterOrEqual = "greater_or_equal"
    case lessThan = "less_than", lessOrEqual = "less_or_equal", between
    case before, after
    case containsAny = "contains_any", containsAll = "contains_all", containsNone = "contains_none"
    case isEmpty = "is_empty", isNotEmpty = "is_not_empty"
}

/// A JSON scalar or list, as rules are written.
public enum ConditionValue: Codable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case list([ConditionValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            self = .list(try container.decode([ConditionValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .list(let value): try container.encode(value)
        }
    }
}
