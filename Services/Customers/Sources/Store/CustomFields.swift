import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// A custom field (客户库自定义字段) of the tenant, or one of the fixed system fields listed with them.
struct CustomFieldView: ResponseEncodable, Codable, Sendable {
    @LowercaseUUID var id: UUID?
    let apiName: String
    let displayName: String
    let type: String
    let choices: [String]?
    let required: Bool
    /// Bounds beyond the type's own (lengths, numbers, dates, choices picked); nil for none.
    let validation: FieldValidation?
    let position: Int
    /// System fields (source, follow-up status, funnel stage) are listed beside custom ones but fixed.
    let system: Bool
    let createdAt: Date?
    let updatedAt: Date?

    static let types = ["short_text", "long_text", "number", "date", "date_time", "single_choice", "multiple_choice", "employee"]

    /// The fixed system fields, with the tenant's follow-up statuses and funnel stages as choices.
    static func systemFields(_ settings: LibrarySettings) -> [CustomFieldView] {
        [
            .init(id: nil, apiName: "source", displayName: "Source", type: "short_text", choices: nil, required: false, validation: nil, position: -3,
                  system: true, createdAt: nil, updatedAt: nil),
            .init(id: nil, apiName: "follow_up_status", displayName: "Follow-up status", type: "single_choice",
                  choices: settings.followUpStatuses, required: false, validation: nil, position: -2, system: true, createdAt: nil, updatedAt: nil),
            .init(id: nil, apiName: "funnel_stage", displayName: "Funnel stage", type: "single_choice",
                  choices: settings.funnelStages, required: false, validation: nil, position: -1, system: true, createdAt: nil, updatedAt: nil),
        ]
    }
    static let systemNames: Set<String> = ["source", "follow_up_status", "funnel_stage"]

    /// The condition language's type for this field (rules test `custom.<api_name>` with it).
    var conditionType: FieldType {
        switch type {
        case "number": .number
        case "date": .date
        case "date_time": .dateTime
        case "single_choice": .singleChoice
        case "multiple_choice": .multiChoice
        default: .text
        }
    }

    var changedEvent: CustomerFieldChanged {
        CustomerFieldChanged(apiName: apiName, type: conditionType, choices: choices, exists: true)
    }

    /// The longest text a field of this type holds (its validation may ask less).
    static func textLimit(_ type: String) -> Int { type == "long_text" ? 5000 : 200 }

    /// Checks one value for this field and gives it as stored (dates and instants normalised, so
    /// that stored values compare as their type), then holds it to the field's validation.
    /// `employees` are the tenant's active employees among the ids the request names.
    func normalised(_ value: JSONValue, _ key: String, employees: Set<UUID>, _ v: inout Validation) -> JSONValue? {
        let errors = v.errors.count
        guard let stored = typed(value, key, employees: employees, &v) else { return nil }
        validation?.check(stored, type: type, key, &v)
        return v.errors.count == errors ? stored : nil
    }

    private func typed(_ value: JSONValue, _ key: String, employees: Set<UUID>, _ v: inout Validation) -> JSONValue? {
        switch (type, value) {
        case ("short_text", .string(let text)), ("long_text", .string(let text)):
            guard let text = v.text(text, key, length: 1...Self.textLimit(type)) else { return nil }
            return .string(text)
        case ("number", .number):
            return value
        case ("date", .string(let day)) where Profile.isDay(day):
            return value
        case ("date_time", .string(let instant)):
            guard let date = RFC3339.date(from: instant) else { break }
            return .string(RFC3339.string(from: date))
        case ("single_choice", .string(let choice)):
            guard choices?.contains(choice) == true else {
                v.add(key, "must be one of the field's choices", code: "invalid_choice")
                return nil
            }
            return value
        case ("multiple_choice", .array(let items)):
            var picked: [String] = []
            for item in items {
                guard case .string(let choice) = item, choices?.contains(choice) == true else {
                    v.add(key, "must list only the field's choices", code: "invalid_choice")
                    return nil
                }
                if !picked.contains(choice) { picked.append(choice) }
            }
            return .array(picked.map(JSONValue.string))
        case ("employee", .string(let text)):
            guard let id = UUID(uuidString: text) else { break }
            guard employees.contains(id) else {
                v.add(key, "is not an active employee of the tenant", code: "not_found")
                return nil
            }
            return .string(text.lowercased())
        default:
            break
        }
        v.add(key, "must be \(Self.describe(type))", code: "wrong_type")
        return nil
    }

    static func describe(_ type: String) -> String {
        switch type {
        case "number": "a number"
        case "date": "a date YYYY-MM-DD"
        case "date_time": "an RFC 3339 date-time"
        case "multiple_choice": "a list of choices"
        case "employee": "an employee id"
        default: "a string"
        }
    }
}

extension TenantTransaction {
    func customFields(id: UUID? = nil) async throws -> [CustomFieldView] {
        let rows = try await query("""
            SELECT id, api_name, display_name, type, choices, required, validation::text, position, created_at, updated_at FROM customers.fields
            WHERE \(id)::uuid IS NULL OR id = \(id) ORDER BY position, api_name
            """)
        var fields: [CustomFieldView] = []
        for try await r in rows.decode((UUID, String, String, String, [String]?, Bool, String?, Int, Date, Date).self) {
            let validation = try r.6.map { try KefuJSON.decoder().decode(FieldValidation.self, from: Data($0.utf8)) }
            fields.append(.init(id: r.0, apiName: r.1, displayName: r.2, type: r.3, choices: r.4, required: r.5, validation: validation,
                                position: r.7, system: false, createdAt: r.8, updatedAt: r.9))
        }
        return fields
    }

    /// Merges `input` (null removes a value) into `current`, checking every value against the
    /// tenant's fields; required fields must hold a value afterwards (on a new customer, or when
    /// the request clears them).
    func customValues(
        _ input: [String: JSONValue]?, over current: [String: JSONValue], creating: Bool, _ v: inout Validation
    ) async throws -> [String: JSONValue] {
        let fields = Dictionary(uniqueKeysWithValues: try await customFields().map { ($0.apiName, $0) })
        let employees = try await activeEmployees(among: CustomFieldView.employeeIDs(in: [input], fields: fields))
        return CustomFieldView.values(input, over: current, creating: creating, fields: fields, employees: employees, &v)
    }
}

extension CustomFieldView {
    /// The employee ids that values of `employee` fields name, to check in one query (an import
    /// checks every row's at once).
    static func employeeIDs(in inputs: [[String: JSONValue]?], fields: [String: CustomFieldView]) -> Set<UUID> {
        var ids: Set<UUID> = []
        for input in inputs {
            for (key, value) in input ?? [:] where fields[key]?.type == "employee" {
                if case .string(let text) = value, let id = UUID(uuidString: text) { ids.insert(id) }
            }
        }
        return ids
    }

    /// `customValues` against fields (and employees) already read (an import reads them once for
    /// every row).
    static func values(
        _ input: [String: JSONValue]?, over current: [String: JSONValue], creating: Bool, fields: [String: CustomFieldView],
        employees: Set<UUID>, _ v: inout Validation
    ) -> [String: JSONValue] {
        var values = current
        for (key, value) in input ?? [:] {
            let path = "custom_fields.\(key)"
            guard let field = fields[key] else {
                v.add(path, "is not a custom field of this tenant", code: "unknown_field")
                continue
            }
            if case .null = value {
                values[key] = nil
            } else if let stored = field.normalised(value, path, employees: employees, &v) {
                values[key] = stored
            }
        }
        for field in fields.values where field.required && values[field.apiName] == nil && (creating || input?[field.apiName] != nil) {
            v.add("custom_fields.\(field.apiName)", "is required", code: "required")
        }
        return values
    }
}
