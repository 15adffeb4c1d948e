import Foundation

/// Collects every invalid field of a request before answering, so a client fixes them all in
/// one round: `var v = Validation(); v.check(...); try v.throwIfInvalid()`.
public struct Validation: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func check(_ condition: Bool, _ field: String, _ message: String, code: String = "invalid") {
        if !condition { errors.append(FieldError(field: field, code: code, message: message)) }
    }

    public mutating func add(_ field: String, _ message: String, code: String = "invalid") {
        errors.append(FieldError(field: field, code: code, message: message))
    }

    /// A string field: trimmed, required unless `optional`, within `length` characters.
    @discardableResult
    public mutating func text(
        _ value: String?, _ field: String, length: ClosedRange<Int>, optional: Bool = false
    ) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            if !optional { add(field, "is required", code: "required") }
            return nil
        }
        if value.isEmpty, optional { return nil }
        if value.isEmpty {
            add(field, "must not be empty", code: "required")
        } else if value.count < length.lowerBound {
            add(field, "must be at least \(length.lowerBound) characters", code: "too_short")
        } else if value.count > length.upperBound {
            add(field, "must be at most \(length.upperBound) characters", code: "too_long")
        }
        return value
    }

    /// An absolute http or https URL of at most 2048 characters.
    public mutating func url(_ value: String?, _ field: String, optional: Bool = false) {
        guard let value else {
            if !optional { add(field, "is required", code: "required") }
            return
        }
        guard value.count <= 2048, let components = URLComponents(string: value),
              ["http", "https"].contains(components.scheme?.lowercased() ?? ""), components.host?.isEmpty == false
        else { return add(field, "must be an http or https URL", code: "invalid_url") }
    }

    public func throwIfInvalid() throws {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
