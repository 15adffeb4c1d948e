import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `/v1/customers`: the library and its contacts. Reads need `customers.view`, writes
/// `customers.edit`, deletes `customers.delete`; every record outside the caller's data scope
/// (or tenant) is a 404.
struct CustomersController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/customers", use: list)
        router.post("/v1/customers", use: create)
        router.get("/v1/customers/{id}", use: show)
        router.patch("/v1/customers/{id}", use: update)
        router.delete("/v1/customers/{id}", use: delete)
        router.post("/v1/customers/{id}/enter", use: enter)
    }

    /// Newest first, keyset-paged on (date added, id): a page never repeats or skips a row while
    /// others are added. `?entered=true|false` keeps customers or contacts only.
    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<CustomerView> {
        let principal = try context.requirePermission(.customersView)
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: TimeCursor.self)
        let entered: Bool?
        switch request.uri.queryParameters["entered"].map(String.init) {
        case nil: entered = nil
        case "true": entered = true
        case "false": entered = false
        default: throw Problem.invalid("entered", "must be true or false")
        }
        let reach = CustomerReach.of(principal)
        let customers = try await database.withTenant(principal.tenantID) { tx in
            try await tx.customers(where: """
                \(reach: reach) AND (\(entered)::bool IS NULL OR c.entered = \(entered))
                AND (\(after?.at)::int8 IS NULL OR ((extract(epoch FROM c.created_at) * 1000000)::int8, c.id) < (\(after?.at)::int8, \(after?.id)::uuid))
                """, limit: page.limit + 1)
        }
        return try page.page(from: customers) { TimeCursor($0.createdAt, $0.id) }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "customer")
        return try await database.withTenant(principal.tenantID) { tx in
            try await tx.customer(id, reach: .of(principal))
        }
    }

    struct CreateRequest: Decodable, Sendable {
        let profile: ProfileInput
        /// Absent: the creating employee owns the customer; null: nobody (the pool).
        let ownerId: PatchField<UUID>
        let ownerTeamId: UUID?
        let identities: [CustomerView.Identity]?

        enum CodingKeys: String, CodingKey { case ownerId, ownerTeamId, identities }

        init(from decoder: any Decoder) throws {
            profile = try ProfileInput(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ownerId = try c.decodePatch(UUID.self, forKey: .ownerId)
            ownerTeamId = try c.decodeIfPresent(UUID.self, forKey: .ownerTeamId)
            identities = try c.decodeIfPresent([CustomerView.Identity].self, forKey: .identities)
        }
    }

    /// Adds a customer to the library directly (entered).
    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<CustomerView> {
        let principal = try context.requirePermission(.customersEdit)
        let body = try await request.decode(as: CreateRequest.self, context: context)
        var checked = Validation()
        var given = Profile()
        if !body.profile.name.isPresent { checked.add("name", "is required", code: "required") }
        given.apply(body.profile, &checked)
        let identities = Identities.check(body.identities ?? [], &checked)
        let (v0, profile0) = (checked, given)
        let owner: UUID? = switch body.ownerId {
        case .absent: principal.employeeID?.uuid
        case .null: nil
        case .value(let id): id
        }
        let id = UUID()
        let view = try await database.withTenant(principal.tenantID) { tx in
            var (v, profile) = (v0, profile0)
            profile.custom = try await tx.customValues(body.profile.customFields.value, over: [:], creating: true, &v)
            if case .value(let owner) = body.ownerId { try await tx.checkOwner(owner, &v) }
            try v.throwIfInvalid()
            try await tx.insertCustomer(id, profile, entered: true, owner: owner, team: body.ownerTeamId)
            for identity in identities { try await tx.addIdentity(identity, to: id) }
            let view = try await referenced("owner_id") { try await tx.customer(id, reach: .of(principal)) }
            try await tx.publish(CustomerCreated(customerId: id, entered: true, by: principal.employeeID))
            if owner != nil || body.ownerTeamId != nil { try await tx.publishOwner(of: id) }
            return view
        }
        return EditedResponse(status: .created, response: view)
    }

    /// Changes profile fields (absent keeps, null clears). Contacts are read-only until entered.
    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        let input = try await request.decode(as: ProfileInput.self, context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customer(id, reach: .of(principal))
            guard before.entered else { throw Self.notEntered }
            var v = Validation()
            var profile = Profile(before)
            profile.apply(input, &v)
            if input.customFields.isPresent {
                profile.custom = try await tx.customValues(input.customFields.value, over: profile.custom, creating: false, &v)
            }
            try v.throwIfInvalid()
            try await tx.updateProfile(id, profile)
            try await tx.publish(CustomerUpdated(customerId: id, fields: input.presentFields, by: principal.employeeID))
            return try await tx.customer(id, reach: .of(principal))
        }
    }

    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.customersDelete)
        let id = try context.parameters.uuid(what: "customer")
        try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customer(id, reach: .of(principal))
            let visitors = try await tx.visitorIDs(of: id)
            try await tx.query("DELETE FROM customers.customers WHERE id = \(id)")
            // Routing must stop sending these visitors to the former owner.
            if before.ownerId != nil || before.ownerTeamId != nil {
                try await tx.publish(CustomerOwnerChanged(customerId: id, ownerId: nil, ownerTeamId: nil, visitorIds: visitors))
            }
            try await tx.publish(CustomerDeleted(customerId: id, visitorIds: visitors, by: principal.employeeID))
        }
        return .noContent
    }

    /// Adds a contact to the library (入库). The caller becomes its owner when it has none.
    @Sendable func enter(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customer(id, reach: .of(principal))
            guard !before.entered else {
                throw Problem.conflict(code: "already_entered", detail: "The customer is already in the library.")
            }
            let owner = before.ownerId ?? principal.employeeID?.uuid
            try await tx.query("""
                UPDATE customers.customers SET entered = true, entered_at = now(), owner_id = \(owner), updated_at = now() WHERE id = \(id)
                """)
            try await tx.publish(CustomerEntered(customerId: id, by: principal.employeeID))
            if owner != before.ownerId { try await tx.publishOwner(of: id) }
            return try await tx.customers(where: "c.id = \(id)")[0]
        }
    }

    static let notEntered = Problem.conflict(
        code: "not_entered", detail: "This contact is not in the library yet: enter it (POST …/enter) before editing it."
    )
}

extension TenantTransaction {
    /// An owner must be an active employee of the tenant (as accounts reported them).
    func checkOwner(_ owner: UUID, _ v: inout Validation, field: String = "owner_id") async throws {
        let rows = try await query("SELECT status FROM customers.employees WHERE employee_id = \(owner)")
        var status: String?
        for try await value in rows.decode(String.self) { status = value }
        v.check(status == "active", field, "is not an active employee", code: "not_found")
    }
}
