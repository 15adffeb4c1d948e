import Foundation
import KefuCore
import KefuModels

/// Validates one reception document: every invalid field is collected (with its JSON path), and
/// the ids it refers to are gathered so that one query per kind checks they exist in the tenant.
struct DocumentCheck {
    enum Reference: String, Sendable { case group, agent, material }

    var validation = Validation()
    let catalogue: FieldCatalogue
    private(set) var references: [(field: String, kind: Reference, id: UUID)] = []

    init(catalogue: FieldCatalogue) { self.catalogue = catalogue }

    mutating func add(_ field: String, _ message: String, code: String = "invalid") {
        validation.add(field, message, code: code)
    }

    mutating func check(_ condition: Bool, _ field: String, _ message: String, code: String = "invalid") {
        validation.check(condition, field, message, code: code)
    }

    /// A required text field, trimmed in place.
    mutating func text(_ value: inout String, _ field: String, length: ClosedRange<Int>) {
        value = validation.text(value, field, length: length) ?? value
    }

    /// An optional text field, trimmed in place; empty becomes nil.
    mutating func text(_ value: inout String?, _ field: String, length: ClosedRange<Int>) {
        value = validation.text(value, field, length: length, optional: true)
    }

    mutating func url(_ value: String?, _ field: String, optional: Bool = false) {
        validation.url(value, field, optional: optional)
    }

    mutating func range(_ value: Int, _ field: String, _ range: ClosedRange<Int>) {
        check(range.contains(value), field, "must be from \(range.lowerBound) to \(range.upperBound)", code: "out_of_range")
    }

    mutating func count(_ count: Int, _ field: String, _ range: ClosedRange<Int>) {
        if count < range.lowerBound {
            add(field, "must hold at least \(range.lowerBound)", code: "too_few")
        } else if count > range.upperBound {
            add(field, "must hold at most \(range.upperBound)", code: "too_many")
        }
    }

    mutating func refer(_ kind: Reference, _ id: UUID, _ field: String) {
        references.append((field, kind, id))
    }

    /// Conditions in the one condition language, against the tenant's field catalogue.
    mutating func conditions(_ set: ConditionSet, _ field: String) {
        do {
            _ = try catalogue.compile(set, path: field)
        } catch {
            for issue in error.issues { add(issue.path, issue.message, code: issue.code) }
        }
    }

    /// A message the tenant sends: exactly the fields of its type.
    mutating func message(_ content: inout MessageContent, _ field: String, allowMaterial: Bool = true) {
        let allowed: Set<MessageContent.Kind> = allowMaterial ? Set(MessageContent.Kind.allCases) : [.text, .image, .rich]
        guard allowed.contains(content.type) else {
            return add("\(field).type", "must be one of \(allowed.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        // Exactly the fields of the type: the type's own are required, the others refused.
        check(content.type == .text || content.text == nil, "\(field).text", "is only for text messages")
        check(content.type == .image || content.imageUrl == nil, "\(field).image_url", "is only for image messages")
        check(content.type == .rich || content.articles == nil, "\(field).articles", "is only for rich messages")
        check(content.type == .material || content.materialId == nil, "\(field).material_id", "is only for material messages")
        switch content.type {
        case .text:
            guard var text = content.text else { return add("\(field).text", "is required for a text message", code: "required") }
            self.text(&text, "\(field).text", length: 1...600)
            content.text = text
        case .image:
            url(content.imageUrl, "\(field).image_url")
        case .rich:
            guard content.articles != nil else { return add("\(field).articles", "is required for a rich message", code: "required") }
            count(content.articles!.count, "\(field).articles", 1...8)
            for index in content.articles!.indices {
                let at = "\(field).articles[\(index)]"
                text(&content.articles![index].title, "\(at).title", length: 1...64)
                text(&content.articles![index].description, "\(at).description", length: 1...120)
                url(content.articles![index].url, "\(at).url")
                url(content.articles![index].imageUrl, "\(at).image_url", optional: true)
            }
        case .material:
            guard let id = content.materialId else { return add("\(field).material_id", "is required for a material message", code: "required") }
            refer(.material, id, "\(field).material_id")
        }
    }

    /// Adds a `not_found` error for every referenced id the tenant does not have (another
    /// tenant's ids included: row-level security hides them), then throws if anything is invalid.
    mutating func verify(in tx: TenantTransaction) async throws {
        for kind in [Reference.group, .agent, .material] {
            let wanted = references.filter { $0.kind == kind }
            guard !wanted.isEmpty else { continue }
            let existing = try await tx.existingIDs(kind, Array(Set(wanted.map(\.id))))
            for reference in wanted where !existing.contains(reference.id) {
                let message = kind == .agent ? "is not an active employee of this tenant" : "does not exist"
                add(reference.field, message, code: "not_found")
            }
        }
        try validation.throwIfInvalid()
    }
}

extension TenantTransaction {
    func existingIDs(_ kind: DocumentCheck.Reference, _ ids: [UUID]) async throws -> Set<UUID> {
        let rows = switch kind {
        case .agent:
            try await query("SELECT employee_id FROM reception.agents WHERE status = 'active' AND employee_id = ANY(\(ids)::uuid[])")
        case .group, .material:
            try await query("SELECT id FROM reception.config_items WHERE kind = \(kind.rawValue) AND id = ANY(\(ids)::uuid[])")
        }
        var found: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { found.insert(id) }
        return found
    }

    /// Built-in fields plus the tenant's custom customer fields.
    func fieldCatalogue() async throws -> FieldCatalogue {
        FieldCatalogue.with(customFields: try await customFields())
    }

    func customFields() async throws -> [FieldDefinition] {
        let rows = try await query("SELECT api_name, type, choices FROM reception.custom_fields ORDER BY api_name")
        var fields: [FieldDefinition] = []
        for try await (name, type, choices) in rows.decode((String, String, [String]?).self) {
            guard let type = FieldType(rawValue: type) else { continue }
            fields.append(FieldDefinition(key: "custom.\(name)", type: type, choices: choices))
        }
        return fields
    }
}
