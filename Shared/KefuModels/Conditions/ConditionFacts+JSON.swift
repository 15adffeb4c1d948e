import Foundation

extension ConditionFacts {
    /// Sets `key` from a value as an API client writes it (the same forms rules use: dates as
    /// `YYYY-MM-DD`, times of day as `HH:mm`, tags as a list). Returns why the value does not fit
    /// the field, or nil when it was set.
    public mutating func set(_ key: String, json value: ConditionValue?) -> String? {
        guard let field = catalogue.fields[key] else { return "is not a field rules can test" }
        guard let value else {
            set(key, nil)
            return nil
        }
        let parsed: Value? = switch (field.type, value) {
        case (.text, .string(let text)), (.singleChoice, .string(let text)): .text(text)
        case (.number, .number(let number)): .number(number)
        case (.boolean, .bool(let bool)): .bool(bool)
        case (.date, .string(let text)): ConditionDates.day(text).map { .date(Date(timeIntervalSince1970: $0 * 86_400)) }
        case (.dateTime, .string(let text)): ConditionDates.instant(text).map { .date(Date(timeIntervalSince1970: $0)) }
        case (.timeOfDay, .string(let text)): ConditionDates.minutes(text).map { .timeOfDay($0) }
        case (.multiChoice, .list(let items)):
            items.allSatisfy { if case .string = $0 { true } else { false } }
                ? .set(Set(items.compactMap { if case .string(let text) = $0 { text } else { nil } }))
                : nil
        default: nil
        }
        guard let parsed else {
            return field.type == .multiChoice ? "must be a list of strings" : "must be \(Operand.expected(field.type))"
        }
        set(key, parsed)
        return nil
    }
}
