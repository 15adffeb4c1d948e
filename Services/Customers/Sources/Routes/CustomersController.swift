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
        router.get("/v1/customers/count", use: count)
        router.post("/v1/customers", use: create)
        router.get("/v1/customers/{id}", use: show)
        router.patch("/v1/customers/{id}", use: update)
        router.delete("/v1/customers/{id}", use: delete)
        router.post("/v1/customers/{id}/enter", use: enter)
    }

    /// A view's customers (`?view_id=`: a system view's name or a custom view's id; default all),
    /// searched (`?q=`), in the view's sort or `?sort=`, keyset-paged on (sort time, id): a page
    /// never repeats or skips a row while others are added. `?entered=true|false` keeps customers
    /// or contacts only.
    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<CustomerView> {
        let principal = try context.requirePermission(.customersView)
        let page = try PageRequest(request: request)
        var asked = try Self.listing(request)
        asked.after = try page.cursor(as: TimeCursor.self)
        let (customers, key) = try await database.withTenant(principal.tenantID) { [asked] tx in
            let reach = try await tx.reach(of: principal)
            let (listing, fields) = try await tx.resolve(asked, employee: principal.employeeID)
            let customers = try await tx.customers(
                where: try listing.condition(reach: reach, employee: principal.employeeID, fields: fields, paging: true),
                order: listing.sort.order, limit: page.limit + 1
            )
            return (customers, listing.sort.key)
        }
        return try page.page(from: customers) { TimeCursor(key.value(of: $0), $0.id) }
    }

    struct Count: ResponseEncodable, Sendable {
        let count: Int
    }

    /// How many customers a list would hold (same parameters, no paging): counted apart, so that
    /// pages never pay for it.
    @Sendable func count(request: Request, context: KefuRequestContext) async throws -> Count {
        let principal = try context.requirePermission(.customersView)
        let asked = try Self.listing(request)
        return try await database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let (listing, fields) = try await tx.resolve(asked, employee: principal.employeeID)
            var query = try listing.condition(reach: reach, employee: principal.employeeID, fields: fields, paging: false)
            query.sql = "SELECT count(*)::int8 FROM customers.customers c WHERE " + query.sql
            return Count(count: Int(try await tx.query(query).decode(Int64.self).reduce(0, +)))
        }
    }

    /// The list parameters a request states itself (the view is resolved in the transaction).
    static func listing(_ request: Request) throws -> CustomerListing {
        let query = request.uri.queryParameters
        var listing = CustomerListing()
        switch query["entered"].map(String.init) {
        case nil: break
        case "true": listing.entered = true
        case "false": listing.entered = false
        default: throw Problem.invalid("entered", "must be true or false")
        }
        if let q = query["q"].map(String.init)?.trimmingCharacters(in: .whitespaces), !q.isEmpty {
            guard q.count <= 100 else { throw Problem.invalid("q", "must be at most 100 characters", code: "too_long") }
            listing.search = q
        }
        if let sort = query["sort"].map(String.init) {
            guard let parsed = CustomerSort(sort) else {
                throw Problem.invalid("sort", "must be one of \(CustomerSort.allowed.joined(separator: ", "))", code: "invalid_choice")
            }
            listing.sort = parsed
            listing.sortGiven = true
        }
        listing.viewID = query["view_id"].map(String.init)
        return listing
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "customer")
        return try await database.withTenant(principal.tenantID) { tx in
            try await tx.customer(id, reach: try await tx.reach(of: principal))
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
        let owner: UUID? = switch body.ownerId {
        case .absent: principal.employeeID?.uuid
        case .null: nil
        case .value(let id): id
        }
        let id = UUID()
        let actor = AuditActor(context: context)
        let view = try await database.withTenant(principal.tenantID) { tx in
            var v = Validation()
            var profile = Profile()
            if !body.profile.name.isPresent { v.add("name", "is required", code: "required") }
            profile.apply(body.profile, &v, settings: try await tx.librarySettings())
            let identities = Identities.check(body.identities ?? [], &v)
            profile.custom = try await tx.customValues(body.profile.customFields.value, over: [:], creating: true, &v)
            if case .value(let owner) = body.ownerId { try await tx.checkOwner(owner, &v) }
            try v.throwIfInvalid()
            try await tx.insertCustomer(id, profile, entered: true, owner: owner, team: body.ownerTeamId)
            for identity in identities { try await tx.addIdentity(identity, to: id) }
            try await tx.syncPhoneIdentities(of: id, from: [], to: profile.phones)
            try await tx.applyRules(to: id)
            let view = try await referenced("owner_id") { try await tx.customer(id, reach: try await tx.reach(of: principal)) }
            try await tx.publish(CustomerCreated(customerId: id, entered: true, by: principal.employeeID))
            if owner != nil || body.ownerTeamId != nil { try await tx.publishOwner(of: id) }
            if profile.funnelStage != nil { try await tx.publishStageChange(of: id, from: nil, by: principal.employeeID) }
            try await tx.publishAudit(actor, action: "customers.customer.created", targetType: "customer", targetID: id.uuidString.lowercased(), after: view)
            return view
        }
        return EditedResponse(status: .created, response: view)
    }

    /// Changes profile fields (absent keeps, null clears). Contacts are read-only until entered.
    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        let input = try await request.decode(as: ProfileInput.self, context: context)
        let actor = AuditActor(context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let before = try await tx.customer(id, reach: reach)
            guard before.entered else { throw Self.notEntered }
            var v = Validation()
            var profile = Profile(before)
            profile.apply(input, &v, settings: try await tx.librarySettings())
            if input.customFields.isPresent {
                profile.custom = try await tx.customValues(input.customFields.value, over: profile.custom, creating: false, &v)
            }
            try v.throwIfInvalid()
            try await tx.updateProfile(id, profile)
            try await tx.syncPhoneIdentities(of: id, from: before.phones.map(\.value), to: profile.phones)
            try await tx.publish(CustomerUpdated(customerId: id, fields: input.presentFields, by: principal.employeeID))
            if profile.funnelStage != before.funnelStage {
                try await tx.publishStageChange(of: id, from: before.funnelStage, by: principal.employeeID)
            }
            try await tx.applyRules(to: id)
            let after = try await tx.customer(id, reach: reach)
            try await tx.publishAudit(actor, action: "customers.customer.updated", targetType: "customer", targetID: id.uuidString.lowercased(),
                                      before: before, after: after)
            return after
        }
    }

    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.customersDelete)
        let id = try context.parameters.uuid(what: "customer")
        let actor = AuditActor(context: context)
        try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customer(id, reach: try await tx.reach(of: principal))
            try await tx.deleteCustomer(before, by: principal.employeeID)
            try await tx.publishAudit(actor, action: "customers.customer.deleted", targetType: "customer", targetID: id.uuidString.lowercased(), before: before)
        }
        return .noContent
    }

    /// Adds a contact to the library (入库). The caller becomes its owner when it has none.
    @Sendable func enter(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customer(id, reach: try await tx.reach(of: principal))
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
    /// Which of `ids` are active employees of the tenant (one query for a whole import).
    func activeEmployees(among ids: Set<UUID>) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        return try await query("""
            SELECT employee_id FROM customers.employees WHERE employee_id = ANY(\(Array(ids))::uuid[]) AND status = 'active'
            """).decode(UUID.self).reduce(into: Set<UUID>()) { $0.insert($1) }
    }

    /// An owner must be an active employee of the tenant (as accounts reported them).
    func checkOwner(_ owner: UUID, _ v: inout Validation, field: String = "owner_id") async throws {
        let rows = try await query("SELECT status FROM customers.employees WHERE employee_id = \(owner)")
        var status: String?
        for try await value in rows.decode(String.self) { status = value }
        v.check(status == "active", field, "is not an active employee", code: "not_found")
    }
}

extension TenantTransaction {
    /// Applies `?view_id=` to the listing (its filter, and its sort unless `?sort=` was given) and
    /// gives the fields conditions may test. An unknown or invisible view is a 422 on view_id.
    func resolve(_ asked: CustomerListing, employee: EmployeeID?) async throws -> (CustomerListing, ViewFields) {
        var listing = asked
        let fields = ViewFields(customFields: try await customFields(), settings: try await librarySettings())
        guard let raw = listing.viewID else { return (listing, fields) }
        if let system = SystemView(rawValue: raw) {
            listing.system = system
        } else if let id = UUID(uuidString: raw) {
            let view = try await referenced("view_id") { try await customerView(id, visibleTo: employee) }
            listing.filter = view.filter ?? .none
            if !listing.sortGiven, let sort = CustomerSort(view.sort) { listing.sort = sort }
            // A field removed since the view was saved matches nothing rather than failing the list.
            do { try listing.filter.check(against: fields) } catch {
                throw Problem.conflict(code: "view_outdated", detail: "The view tests a field that no longer exists: edit it.")
            }
        } else {
            throw Problem.invalid("view_id", "is neither a system view nor a view id", code: "not_found")
        }
        return (listing, fields)
    }
}
