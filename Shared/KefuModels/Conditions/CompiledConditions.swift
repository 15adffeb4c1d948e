import Foundation

/// What is known about one visitor or customer, laid out for a catalogue. Text is compared
/// case-insensitively; a field left unset counts as empty.
public struct ConditionFacts: Sendable {
    public enum Value: Sendable {
        case text(String)
        case number(Double)
        case bool(Bool)
        case date(Date)
        /// Minutes after midnight.
        case timeOfDay(Int)
        case set(Set<String>)
    }

    let catalogue: FieldCatalogue
    var values: [Value?]

    public init(catalogue: FieldCatalogue) {
        self.catalogue = catalogue
        self.values = Array(repeating: nil, count: catalogue.slots.count)
    }

    /// Sets a field; unknown keys are ignored (a rule cannot test them anyway).
    public mutating func set(_ key: String, _ value: Value?) {
        guard let slot = catalogue.slots[key] else { return }
        values[slot] = switch value {
        case .text(let text): .text(text.lowercased())
        case .set(let items): .set(Set(items.map { $0.lowercased() }))
        default: value
        }
    }
}

struct CompiledCondition: Sendable {
    let slot: Int
    let op: ConditionOperator
    let operand: Operand
}

/// A validated condition set, ready to evaluate many times (every incoming conversation runs
/// every rule of its tenant).
public struct CompiledConditions: Sendable {
    public let join: ConditionSet.Join
    let conditions: [CompiledCondition]

    /// An empty set matches everything: a rule without conditions applies to all.
    public func matches(_ facts: ConditionFacts) -> Bool {
        if conditions.isEmpty { return true }
        switch join {
        case .all: return conditions.allSatisfy { Self.holds($0, facts.values[$0.slot]) }
        case .any: return conditions.contains { Self.holds($0, facts.values[$0.slot]) }
        }
    }

    /// Each condition's outcome, in order: the "why" of a dry run.
    public func explain(_ facts: ConditionFacts) -> [Bool] {
        conditions.map { Self.holds($0, facts.values[$0.slot]) }
    }

    // swiftlint:disable:next cyclomatic_complexity
    static func holds(_ condition: CompiledCondition, _ value: ConditionFacts.Value?) -> Bool {
        let empty = isEmpty(value)
        switch condition.op {
        case .isEmpty: return empty
        case .isNotEmpty: return !empty
        default: break
        }
        switch (condition.op, condition.operand, value) {
        // A missing value equals nothing, so every negative test holds for it.
        case (.notEquals, _, nil), (.notContains, _, nil), (.notIn, _, nil), (.containsNone, _, nil): return true
        case (_, _, nil): return false

        case (.equals, .text(let expected), .text(let actual)): return actual == expected
        case (.notEquals, .text(let expected), .text(let actual)): return actual != expected
        case (.contains, .text(let expected), .text(let actual)): return actual.contains(expected)
        case (.notContains, .text(let expected), .text(let actual)): return !actual.contains(expected)
        case (.startsWith, .text(let expected), .text(let actual)): return actual.hasPrefix(expected)
        case (.in, .texts(let options), .text(let actual)): return options.contains(actual)
        case (.notIn, .texts(let options), .text(let actual)): return !options.contains(actual)

        case (.equals, .number(let expected), .number(let actual)): return actual == expected
        case (.notEquals, .number(let expected), .number(let actual)): return actual != expected
        case (.greaterThan, .number(let bound), .number(let actual)): return actual > bound
        case (.greaterOrEqual, .number(let bound), .number(let actual)): return actual >= bound
        case (.lessThan, .number(let bound), .number(let actual)): return actual < bound
        case (.lessOrEqual, .number(let bound), .number(let actual)): return actual <= bound
        case (.between, .numberRange(let low, let high), .number(let actual)): return actual >= low && actual <= high

        case (.equals, .bool(let expected), .bool(let actual)): return actual == expected

        case (.equals, .instant(let expected), .date(let date)): return instant(date, like: expected) == expected
        case (.before, .instant(let bound), .date(let date)): return instant(date, like: bound) < bound
        case (.after, .instant(let bound), .date(let date)): return instant(date, like: bound) > bound
        case (.between, .instantRange(let low, let high), .date(let date)):
            let value = instant(date, like: low)
            return value >= low && value <= high

        case (.before, .minutes(let bound), .timeOfDay(let actual)): return actual < bound
        case (.after, .minutes(let bound), .timeOfDay(let actual)): return actual > bound
        case (.between, .minuteRange(let start, let end), .timeOfDay(let actual)):
            return start <= end ? (actual >= start && actual <= end) : (actual >= start || actual <= end)

        case (.containsAny, .texts(let options), .set(let items)): return !options.isDisjoint(with: items)
        case (.containsAll, .texts(let options), .set(let items)): return options.isSubset(of: items)
        case (.containsNone, .texts(let options), .set(let items)): return options.isDisjoint(with: items)

        default: return false
        }
    }

    static func isEmpty(_ value: ConditionFacts.Value?) -> Bool {
        switch value {
        case nil: true
        case .text(let text): text.isEmpty
        case .set(let items): items.isEmpty
        default: false
        }
    }

    /// Dates compare by day (operands below ~10^6 are day numbers), date-times by the second.
    static func instant(_ date: Date, like operand: Double) -> Double {
        abs(operand) < 1_000_000 ? (date.timeIntervalSince1970 / 86_400).rounded(.down) : date.timeIntervalSince1970
    }
}
