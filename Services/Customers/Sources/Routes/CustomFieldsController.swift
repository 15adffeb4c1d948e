import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `/v1/customer-fields`: the tenant's custom fields, listed after the fixed system fields.
/// Defining needs `customers.fields`; reading `customers.view`. Every write publishes
/// `customer_field.changed`, which reception follows for `custom.<api_name>` rule conditions.
struct CustomFieldsController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/customer-fields", use: list)
        router.post("/v1/customer-fields", use: create)
        router.get("/v1/customer-fields/{id}", use: show)
        router.patch("/v1/customer-fields/{id}", use: update)
        router.delete("/v1/customer-fields/{id}", use: delete)
    }

    /// At most this many custom fields per tenant, so a customer's values stay small.
    static let limit = 100

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<CustomFieldView> {
        let principal = try context.requirePermission(.customersView)
        return try await database.withTenant(principal.tenantID) { tx in
            Page(data: CustomFieldView.systemFields(try await tx.librarySettings()) + (try await tx.customFields()), nextCursor: nil)
        }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> CustomFieldView {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "custom field")
        return try await database.withTenant(principal.tenantID) { tx in try await tx.customField(id) }
    }

    struct FieldRequest: Decodable, Sendable {
        let apiName: PatchField<String>
        let displayName: PatchField<String>
        let type: PatchField<String>
        let choices: PatchField<[String]>
        let required: PatchField<Bool>
        let validation: PatchField<FieldValidation>
        let position: PatchField<Int>

        enum CodingKeys: String, CodingKey { case apiName, displayName, type, choices, required, validation, position }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            apiName = try c.decodePatch(String.self, forKey: .apiName)
            displayName = try c.decodePatch(String.self, forKey: .displayName)
            type = try c.decodePatch(String.self, forKey: .type)
            choices = try c.decodePatch([String].self, forKey: .choices)
            required = try c.decodePatch(Bool.self, forKey: .required)
            validation = try c.decodePatch(FieldValidation.self, forKey: .validation)
            position = try c.decodePatch(Int.self, forKey: .position)
        }
    }

    /// The API name's form: it is a JSON key, a rule field (`custom.<api_name>`) and a CSV column.
    static func isAPIName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.count <= 40 else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func json(_ validation: FieldValidation?) throws -> String? {
        try validation.map { String(decoding: try KefuJSON.encoder().encode($0), as: UTF8.self) }
    }

    static func checkChoices(_ choices: [String]?, type: String, _ v: inout Validation) -> [String]? {
        let isChoice = type == "single_choice" || type == "multiple_choice"
        guard isChoice else {
            v.check(choices == nil, "choices", "only choice fields have choices", code: "not_allowed")
            return nil
        }
        var result: [String] = []
        for (index, choice) in (choices ?? []).enumerated() {
            if let choice = v.text(choice, "choices[\(index)]", length: 1...50) {
                v.check(!result.contains(choice), "choices[\(index)]", "is listed twice", code: "duplicate")
                result.append(choice)
            }
        }
        v.check(!result.isEmpty && result.count <= 200, "choices", "must list 1 to 200 choices", code: result.isEmpty ? "required" : "too_many")
        return result
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<CustomFieldView> {
        let principal = try context.requirePermission(.customersFields)
        let body = try await request.decode(as: FieldRequest.self, context: context)
        var v = Validation()
        let apiName = v.text(body.apiName.value, "api_name", length: 1...40)
        if let apiName {
            v.check(Self.isAPIName(apiName), "api_name", "must start with a-z and hold only a-z, 0-9 and _", code: "invalid_format")
            v.check(!CustomFieldView.systemNames.contains(apiName), "api_name", "is a system field's name", code: "reserved")
        }
        let displayName = v.text(body.displayName.value, "display_name", length: 1...30)
        let type = body.type.value ?? ""
        v.check(CustomFieldView.types.contains(type), "type", "must be one of \(CustomFieldView.types.joined(separator: ", "))",
                code: body.type.isPresent ? "invalid_choice" : "required")
        let choices = CustomFieldView.types.contains(type) ? Self.checkChoices(body.choices.value, type: type, &v) : nil
        let validation = FieldValidation.checked(body.validation.value, type: type, choices: choices?.count ?? 0, &v)
        try v.throwIfInvalid()
        let id = UUID()
        let field = try await database.withTenant(principal.tenantID) { tx in
            try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended(\("customers.fields:" + tx.tenantID.description), 0))")
            let count = try await tx.query("SELECT count(*)::int FROM customers.fields").decode(Int.self).reduce(0, +)
            guard count < Self.limit else {
                throw Problem.conflict(code: "limit_reached", detail: "A tenant has at most \(Self.limit) custom fields.")
            }
            try await rejectingDuplicates(as: .conflict(code: "api_name_taken", detail: "A custom field named \(apiName!) exists.")) {
                try await tx.query("""
                    INSERT INTO customers.fields (tenant_id, id, api_name, display_name, type, choices, required, validation, position)
                    VALUES (\(tx.tenantID.uuid), \(id), \(apiName!), \(displayName!), \(type), \(choices), \(body.required.value ?? false),
                            \(try Self.json(validation))::jsonb, \(body.position.value ?? count))
                    """)
            }
            let field = try await tx.customField(id)
            try await tx.publish(field.changedEvent)
            try await tx.publishAudit(AuditActor(context: context), action: "customers.field.created", targetType: "customer_field",
                                      targetID: id.uuidString.lowercased(), after: field)
            return field
        }
        return EditedResponse(status: .created, response: field)
    }

    /// Changes the display name, choices, required flag, validation or position. The API name and
    /// the type are the field's identity (stored values and rules depend on them): changing them
    /// is a 422. A new validation holds values written from then on; stored ones stay as they are.
    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> CustomFieldView {
        let principal = try context.requirePermission(.customersFields)
        let id = try context.parameters.uuid(what: "custom field")
        let body = try await request.decode(as: FieldRequest.self, context: context)
        let actor = AuditActor(context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customField(id)
            var v = Validation()
            if body.apiName.isPresent, body.apiName.value != before.apiName {
                v.add("api_name", "cannot change: values and rules use it", code: "immutable")
            }
            if body.type.isPresent, body.type.value != before.type { v.add("type", "cannot change: stored values have it", code: "immutable") }
            if case .null = body.displayName { v.add("display_name", "cannot be cleared", code: "required") }
            let displayName = v.text(body.displayName.value, "display_name", length: 1...30, optional: body.displayName.value == nil) ?? before.displayName
            let choices = body.choices.isPresent ? Self.checkChoices(body.choices.value, type: before.type, &v) : before.choices
            let validation = body.validation.isPresent
                ? FieldValidation.checked(body.validation.value, type: before.type, choices: choices?.count ?? 0, &v) : before.validation
            try v.throwIfInvalid()
            try await tx.query("""
                UPDATE customers.fields SET display_name = \(displayName), choices = \(choices), validation = \(try Self.json(validation))::jsonb,
                    required = \(body.required.value ?? before.required), position = \(body.position.value ?? before.position), updated_at = now()
                WHERE id = \(id)
                """)
            let after = try await tx.customField(id)
            try await tx.publish(after.changedEvent)
            try await tx.publishAudit(actor, action: "customers.field.updated", targetType: "customer_field",
                                      targetID: id.uuidString.lowercased(), before: before, after: after)
            return after
        }
    }

    /// Removes the field and its values (an API name used again later must not meet old values of
    /// another type).
    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.customersFields)
        let id = try context.parameters.uuid(what: "custom field")
        let actor = AuditActor(context: context)
        try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customField(id)
            try await tx.query("DELETE FROM customers.fields WHERE id = \(id)")
            try await tx.query("UPDATE customers.customers SET custom = custom - \(before.apiName) WHERE custom ? \(before.apiName)")
            try await tx.publish(CustomerFieldChanged(apiName: before.apiName, type: before.conditionType, choices: before.choices, exists: false))
            try await tx.publishAudit(actor, action: "customers.field.deleted", targetType: "customer_field",
                                      targetID: id.uuidString.lowercased(), before: before)
        }
        return .noContent
    }
}

extension TenantTransaction {
    func customField(_ id: UUID) async throws -> CustomFieldView {
        guard let field = try await customFields(id: id).first else { throw Problem.notFound("custom field") }
        return field
    }
}
