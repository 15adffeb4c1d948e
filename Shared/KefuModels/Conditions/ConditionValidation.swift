import Foundation

/// A reason a condition set is invalid, with the JSON path of the offending part
/// (`conditions[2].value`) so that APIs can answer 422 naming it.
public struct ConditionIssue: Sendable, Equatable {
    public let path: String
    public let code: String
    public let message: String
}

/// Every issue of a condition set, thrown by `FieldCatalogue.compile`.
public struct InvalidConditions: Error, Sendable, Equatable {
    public let issues: [ConditionIssue]
}

extension FieldCatalogue {
    public static let maxConditions = 20

    /// Validates `set` and compiles it for fast evaluation; every issue is reported, not only
    /// the first.
    public func compile(_ set: ConditionSet, path: String = "conditions") throws(InvalidConditions) -> CompiledConditions {
        var issues: [ConditionIssue] = []
        if set.conditions.count > Self.maxConditions {
            issues.append(ConditionIssue(path: path, code: "too_many", message: "holds at most \(Self.maxConditions) conditions"))
        }
        var compiled: [CompiledCondition] = []
        for (index, condition) in set.conditions.enumerated() {
            let at = "\(path)[\(index)]"
            guard let field = fields[condition.field], let slot = slots[condition.field] else {
                issues.append(ConditionIssue(path: "\(at).field", code: "unknown_field", message: "\(condition.field) is not a field rules can test"))
                continue
            }
            guard field.type.operators.contains(condition.op) else {
                let allowed = field.type.operators.map(\.rawValue).sorted().joined(separator: ", ")
                issues.append(ConditionIssue(path: "\(at).op", code: "wrong_operator",
                                             message: "\(condition.op.rawValue) does not apply to a \(field.type.rawValue) field; use one of \(allowed)"))
                continue
            }
            switch Operand.parse(condition.value, op: condition.op, field: field) {
            case .success(let operand):
                compiled.append(CompiledCondition(slot: slot, op: condition.op, operand: operand))
            case .failure(let message):
                issues.append(ConditionIssue(path: "\(at).value", code: "invalid_value", message: message.text))
            }
        }
        guard issues.isEmpty else { throw InvalidConditions(issues: issues) }
        return CompiledConditions(join: set.join, conditions: compiled)
    }
}

struct ValueMessage: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// A condition's value, parsed once for its field type (lower-cased text, days, minutes …).
enum Operand: Sendable {
    case none
    case text(String)
    case texts(Set<String>)
    case number(Double)
    case numberRange(Double, Double)
    case bool(Bool)
    /// Days since 1970-01-01 (dates) or seconds (date-times).
    case instant(Double)
    case instantRange(Double, Double)
    /// Minutes after midnight.
    case minutes(Int)
    case minuteRange(Int, Int)

    static func parse(_ value: ConditionValue?, op: ConditionOperator, field: FieldDefinition) -> Result<Operand, ValueMessage> {
        if op == .isEmpty || op == .isNotEmpty {
            return value == nil ? .success(.none) : .failure(ValueMessage("must be left out for \(op.rawValue)"))
        }
        guard let value else { return .failure(ValueMessage("is required")) }
        let listOperators: Set<ConditionOperator> = [.in, .notIn, .containsAny, .containsAll, .containsNone]
        if op == .between {
            guard case .list(let bounds) = value, bounds.count == 2 else { return .failure(ValueMessage("must be a list of two bounds")) }
            return range(bounds[0], bounds[1], field: field)
        }
        if listOperators.contains(op) {
            guard case .list(let items) = value, !items.isEmpty, items.count <= 200 else {
                return .failure(ValueMessage("must be a list of 1 to 200 values"))
            }
            var texts = Set<String>()
            for item in items {
                guard case .string(let text) = item, !text.isEmpty else { return .failure(ValueMessage("must list strings")) }
                if let choices = field.choices, !choices.contains(text) {
                    return .failure(ValueMessage("\(text) is not one of \(choices.joined(separator: ", "))"))
                }
                texts.insert(text.lowercased())
            }
            return .success(.texts(texts))
        }
        return scalar(value, field: field)
    }

    static func scalar(_ value: ConditionValue, field: FieldDefinition) -> Result<Operand, ValueMessage> {
        switch (field.type, value) {
        case (.text, .string(let text)) where !text.isEmpty && text.count <= 500:
            return .success(.text(text.lowercased()))
        case (.singleChoice, .string(let text)):
            if let choices = field.choices, !choices.contains(text) {
                return .failure(ValueMessage("\(text) is not one of \(choices.joined(separator: ", "))"))
            }
            return .success(.text(text.lowercased()))
        case (.number, .number(let number)) where number.isFinite:
            return .success(.number(number))
        case (.boolean, .bool(let flag)):
            return .success(.bool(flag))
        case (.date, .string(let text)):
            return ConditionDates.day(text).map { .success(.instant($0)) } ?? .failure(ValueMessage("must be a date, YYYY-MM-DD"))
        case (.dateTime, .string(let text)):
            return ConditionDates.instant(text).map { .success(.instant($0)) } ?? .failure(ValueMessage("must be an RFC 3339 date-time"))
        case (.timeOfDay, .string(let text)):
            return ConditionDates.minutes(text).map { .success(.minutes($0)) } ?? .failure(ValueMessage("must be a time of day, HH:mm"))
        default:
            return .failure(ValueMessage("must be \(expected(field.type))"))
        }
    }

    static func range(_ low: ConditionValue, _ high: ConditionValue, field: FieldDefinition) -> Result<Operand, ValueMessage> {
        switch (scalar(low, field: field), scalar(high, field: field)) {
        case (.success(.number(let a)), .success(.number(let b))) where a <= b: return .success(.numberRange(a, b))
        case (.success(.instant(let a)), .success(.instant(let b))) where a <= b: return .success(.instantRange(a, b))
        // A time-of-day range may wrap midnight: 22:00 to 06:00 is the night.
        case (.success(.minutes(let a)), .success(.minutes(let b))): return .success(.minuteRange(a, b))
        case (.failure(let message), _), (_, .failure(let message)): return .failure(message)
        default: return .failure(ValueMessage("must list the lower bound first"))
        }
    }

    static func expected(_ type: FieldType) -> String {
        switch type {
        case .text: "a non-empty string of at most 500 characters"
        case .number: "a number"
        case .date: "a date, YYYY-MM-DD"
        case .dateTime: "an RFC 3339 date-time"
        case .timeOfDay: "a time of day, HH:mm"
        case .boolean: "true or false"
        case .singleChoice, .multiChoice: "a string"
        }
    }
}

enum ConditionDates {
    static func day(_ text: String) -> Double? {
        guard let date = try? Date.ISO8601FormatStyle().year().month().day().parse(text) else { return nil }
        return (date.timeIntervalSince1970 / 86_400).rounded(.down)
    }

    static func instant(_ text: String) -> Double? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date.timeIntervalSince1970 }
        return (try? Date.ISO8601FormatStyle().parse(text))?.timeIntervalSince1970
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0..<24).contains(hours), (0..<60).contains(minutes), parts[1].count == 2
        else { return nil }
        return hours * 60 + minutes
    }
}
