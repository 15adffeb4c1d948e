import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// A view as the API shows it: a system view (id = its name, fixed) or a custom one.
struct CustomerViewDefinition: ResponseEncodable, Codable, Sendable {
    let id: String
    let name: String
    let system: Bool
    /// Personal views are seen by their owner only; shared ones by the whole tenant.
    let shared: Bool
    @LowercaseUUID var ownerId: UUID?
    let filter: ViewFilter?
    let sort: String
    let createdAt: Date?
    let updatedAt: Date?

    static let systemViews = SystemView.allCases.map {
        CustomerViewDefinition(id: $0.rawValue, name: $0.name, system: true, shared: true, ownerId: nil, filter: nil,
                               sort: CustomerSort.newest.text, createdAt: nil, updatedAt: nil)
    }
}

/// `/v1/customer-views`: custom views (视图), personal or shared, beside the system views. Anyone
/// who may see customers keeps personal views; shared ones need `customers.edit`. A personal view
/// of someone else is a 404.
struct ViewsController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/customer-views", use: list)
        router.post("/v1/customer-views", use: create)
        router.get("/v1/customer-views/{id}", use: show)
        router.patch("/v1/customer-views/{id}", use: update)
        router.delete("/v1/customer-views/{id}", use: delete)
    }

    /// Custom views per employee and shared per tenant, each at most this many.
    static let limit = 100

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<CustomerViewDefinition> {
        let principal = try context.requirePermission(.customersView)
        let views = try await database.withTenant(principal.tenantID) { tx in try await tx.customerViews(visibleTo: principal.employeeID) }
        return Page(data: CustomerViewDefinition.systemViews + views, nextCursor: nil)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> CustomerViewDefinition {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "view")
        return try await database.withTenant(principal.tenantID) { tx in try await tx.customerView(id, visibleTo: principal.employeeID) }
    }

    struct ViewRequest: Decodable, Sendable {
        let name: PatchField<String>
        let filter: PatchField<ViewFilter>
        let sort: PatchField<String>
        let shared: PatchField<Bool>

        enum CodingKeys: String, CodingKey { case name, filter, sort, shared }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodePatch(String.self, forKey: .name)
            filter = try c.decodePatch(ViewFilter.self, forKey: .filter)
            sort = try c.decodePatch(String.self, forKey: .sort)
            shared = try c.decodePatch(Bool.self, forKey: .shared)
        }
    }

    /// Checks the request over `current` (nil: a new view) and gives name, filter, sort, shared.
    static func checked(
        _ body: ViewRequest, over current: CustomerViewDefinition?, principal: Principal, tx: TenantTransaction
    ) async throws -> (String, ViewFilter, String, Bool) {
        var v = Validation()
        if case .null = body.name { v.add("name", "cannot be cleared", code: "required") }
        if current == nil, !body.name.isPresent { v.add("name", "is required", code: "required") }
        let name = v.text(body.name.value, "name", length: 1...30, optional: body.name.value == nil) ?? current?.name ?? ""
        let sort = body.sort.value ?? current?.sort ?? CustomerSort.newest.text
        v.check(CustomerSort(sort) != nil, "sort", "must be one of \(CustomerSort.allowed.joined(separator: ", "))", code: "invalid_choice")
        let shared = body.shared.value ?? current?.shared ?? false
        try v.throwIfInvalid()
        if shared || current?.shared == true, !principal.has(.customersEdit) {
            throw Problem.forbidden(missing: Permission.customersEdit.rawValue)
        }
        if shared == false, principal.employeeID == nil {
            throw Problem.invalid("shared", "must be true: an API key keeps no personal views")
        }
        let filter = body.filter.value ?? current?.filter ?? .none
        try filter.check(against: ViewFields(customFields: try await tx.customFields(), settings: try await tx.librarySettings()))
        return (name, filter, sort, shared)
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<CustomerViewDefinition> {
        let principal = try context.requirePermission(.customersView)
        let body = try await request.decode(as: ViewRequest.self, context: context)
        let id = UUID()
        let view = try await database.withTenant(principal.tenantID) { tx in
            let (name, filter, sort, shared) = try await Self.checked(body, over: nil, principal: principal, tx: tx)
            let owner = shared ? nil : principal.employeeID?.uuid
            try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended(\("customers.views:\(tx.tenantID):\(owner?.uuidString ?? "")"), 0))")
            let count = try await tx.query("SELECT count(*)::int FROM customers.views WHERE owner_id IS NOT DISTINCT FROM \(owner)")
                .decode(Int.self).reduce(0, +)
            guard count < Self.limit else { throw Problem.conflict(code: "limit_reached", detail: "At most \(Self.limit) views.") }
            try await tx.query("""
                INSERT INTO customers.views (tenant_id, id, name, owner_id, filter, sort)
                VALUES (\(tx.tenantID.uuid), \(id), \(name), \(owner), \(try Self.json(filter))::jsonb, \(sort))
                """)
            try await tx.publish(CustomerViewChanged(viewId: id, exists: true))
            return try await tx.customerView(id, visibleTo: principal.employeeID)
        }
        return EditedResponse(status: .created, response: view)
    }

    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> CustomerViewDefinition {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "view")
        let body = try await request.decode(as: ViewRequest.self, context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customerView(id, visibleTo: principal.employeeID)
            let (name, filter, sort, shared) = try await Self.checked(body, over: before, principal: principal, tx: tx)
            let owner = shared ? nil : (before.ownerId ?? principal.employeeID?.uuid)
            try await tx.query("""
                UPDATE customers.views SET name = \(name), owner_id = \(owner), filter = \(try Self.json(filter))::jsonb, sort = \(sort),
                    updated_at = now() WHERE id = \(id)
                """)
            try await tx.publish(CustomerViewChanged(viewId: id, exists: true))
            return try await tx.customerView(id, visibleTo: principal.employeeID)
        }
    }

    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "view")
        try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customerView(id, visibleTo: principal.employeeID)
            if before.shared, !principal.has(.customersEdit) { throw Problem.forbidden(missing: Permission.customersEdit.rawValue) }
            try await tx.query("DELETE FROM customers.views WHERE id = \(id)")
            try await tx.publish(CustomerViewChanged(viewId: id, exists: false))
        }
        return .noContent
    }

    static func json(_ filter: ViewFilter) throws -> String {
        String(decoding: try KefuJSON.encoder().encode(filter), as: UTF8.self)
    }
}

extension TenantTransaction {
    func customerViews(visibleTo employee: EmployeeID?, id: UUID? = nil) async throws -> [CustomerViewDefinition] {
        let rows = try await query("""
            SELECT id, name, owner_id, filter::text, sort, created_at, updated_at FROM customers.views
            WHERE (owner_id IS NULL OR owner_id = \(employee?.uuid)) AND (\(id)::uuid IS NULL OR id = \(id))
            ORDER BY owner_id NULLS FIRST, name, id
            """)
        let decoder = KefuJSON.decoder()
        var views: [CustomerViewDefinition] = []
        for try await r in rows.decode((UUID, String, UUID?, String, String, Date, Date).self) {
            views.append(.init(id: r.0.uuidString.lowercased(), name: r.1, system: false, shared: r.2 == nil, ownerId: r.2,
                               filter: try decoder.decode(ViewFilter.self, from: Data(r.3.utf8)), sort: r.4, createdAt: r.5, updatedAt: r.6))
        }
        return views
    }

    /// A custom view the caller may see (shared, or their own), else 404.
    func customerView(_ id: UUID, visibleTo employee: EmployeeID?) async throws -> CustomerViewDefinition {
        guard let view = try await customerViews(visibleTo: employee, id: id).first else { throw Problem.notFound("view") }
        return view
    }
}
