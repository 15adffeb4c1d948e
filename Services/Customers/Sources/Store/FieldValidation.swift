import Foundation
import KefuCore

/// What a custom field's values must meet beyond their type (`validation` of a field): text
/// lengths, number bounds and whole numbers, date and date-time bounds, how many choices. Each
/// type takes only its own keys. There is no regular-expression pattern on purpose: the
/// matchers at hand backtrack, and one tenant's pattern must not be able to stall the service
/// for every tenant.
struct FieldValidation: Codable, Sendable, Equatable {
    var minLength: Int?
    var maxLength: Int?
    var min: Double?
    var max: Double?
    /// Numbers: whole numbers only.
    var integer: Bool?
    /// Dates (`YYYY-MM-DD`) or date-times (RFC 3339), by the field's type.
    var earliest: String?
    var latest: String?
    var minItems: Int?
    var maxItems: Int?

    /// The keys each type takes, as the API names them.
    static func keys(for type: String) -> [String] {
        switch type {
        case "short_text", "long_text": ["min_length", "max_length"]
        case "number": ["min", "max", "integer"]
        case "date", "date_time": ["earliest", "latest"]
        case "multiple_choice": ["min_items", "max_items"]
        default: []
        }
    }

    /// The keys this validation sets, as the API names them.
    var present: [String] {
        [("min_length", minLength != nil), ("max_length", maxLength != nil), ("min", min != nil), ("max", max != nil),
         ("integer", integer != nil), ("earliest", earliest != nil), ("latest", latest != nil),
         ("min_items", minItems != nil), ("max_items", maxItems != nil)].filter(\.1).map(\.0)
    }

    /// Checks a validation given for a field of `type` (errors name `validation.<key>`) and gives
    /// it as stored: nil when it sets nothing. Bounds must fit the type and each other.
    static func checked(_ given: FieldValidation?, type: String, choices: Int, _ v: inout Validation) -> FieldValidation? {
        guard let given, !given.present.isEmpty else { return nil }
        let allowed = keys(for: type)
        for key in given.present where !allowed.contains(key) {
            v.add("validation.\(key)", allowed.isEmpty ? "a \(type) field takes no validation" : "applies to other types: \(type) takes \(allowed.joined(separator: ", "))",
                  code: "not_allowed")
        }
        func ordered<T: Comparable>(_ low: T?, _ high: T?, _ name: String) {
            if let low, let high { v.check(low <= high, "validation.\(name)", "must not be below the lower bound", code: "out_of_range") }
        }
        let limit = CustomFieldView.textLimit(type)
        for (key, value) in [("min_length", given.minLength), ("max_length", given.maxLength)] {
            if let value { v.check((1...limit).contains(value), "validation.\(key)", "must be from 1 to \(limit)", code: "out_of_range") }
        }
        ordered(given.minLength, given.maxLength, "max_length")
        for (key, value) in [("min", given.min), ("max", given.max)] {
            if let value { v.check(value.isFinite, "validation.\(key)", "must be a finite number", code: "out_of_range") }
        }
        ordered(given.min, given.max, "max")
        func instant(_ text: String) -> Date? {
            guard type == "date" else { return RFC3339.date(from: text) }
            return Profile.isDay(text) ? RFC3339.date(from: text + "T00:00:00Z") : nil
        }
        for (key, value) in [("earliest", given.earliest), ("latest", given.latest)] {
            if let value, allowed.contains(key) {
                v.check(instant(value) != nil, "validation.\(key)", "must be \(CustomFieldView.describe(type))", code: "wrong_type")
            }
        }
        ordered(given.earliest.flatMap(instant), given.latest.flatMap(instant), "latest")
        for (key, value) in [("min_items", given.minItems), ("max_items", given.maxItems)] {
            if let value { v.check((0...choices).contains(value), "validation.\(key)", "must be from 0 to the number of choices (\(choices))", code: "out_of_range") }
        }
        ordered(given.minItems, given.maxItems, "max_items")
        return given
    }

    /// Adds an error on `key` when a value of the field's type (already of the right type) is
    /// outside these bounds.
    func check(_ value: JSONValue, type: String, _ key: String, _ v: inout Validation) {
        switch value {
        case .string(let text) where type == "short_text" || type == "long_text":
            if let minLength { v.check(text.count >= minLength, key, "must be at least \(minLength) characters", code: "too_short") }
            if let maxLength { v.check(text.count <= maxLength, key, "must be at most \(maxLength) characters", code: "too_long") }
        case .number(let number):
            if let min { v.check(number >= min, key, "must be at least \(Self.show(min))", code: "out_of_range") }
            if let max { v.check(number <= max, key, "must be at most \(Self.show(max))", code: "out_of_range") }
            if integer == true { v.check(number.rounded() == number, key, "must be a whole number", code: "not_integer") }
        case .string(let text) where type == "date":
            // Days compare as text: YYYY-MM-DD sorts as it counts.
            if let earliest { v.check(text >= earliest, key, "must be on or after \(earliest)", code: "out_of_range") }
            if let latest { v.check(text <= latest, key, "must be on or before \(latest)", code: "out_of_range") }
        case .string(let text) where type == "date_time":
            guard let date = RFC3339.date(from: text) else { return }
            if let earliest, let bound = RFC3339.date(from: earliest) {
                v.check(date >= bound, key, "must be at or after \(earliest)", code: "out_of_range")
            }
            if let latest, let bound = RFC3339.date(from: latest) { v.check(date <= bound, key, "must be at or before \(latest)", code: "out_of_range") }
        case .array(let items):
            if let minItems { v.check(items.count >= minItems, key, "must pick at least \(minItems)", code: "too_few") }
            if let maxItems { v.check(items.count <= maxItems, key, "must pick at most \(maxItems)", code: "too_many") }
        default:
            return
        }
    }

    /// A bound as people write it: 10 rather than 10.0.
    static func show(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}
