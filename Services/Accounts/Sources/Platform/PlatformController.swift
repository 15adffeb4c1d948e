import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// The operator running Kefu: creates, lists, resizes and suspends tenants. Authenticated by
/// `KEFU_PLATFORM_TOKEN`, never by a tenant's credentials.
struct PlatformController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/platform/tenants", use: create)
        router.get("/v1/platform/tenants", use: list)
        router.get("/v1/platform/tenants/{id}", use: show)
        router.patch("/v1/platform/tenants/{id}", use: update)
        router.post("/v1/platform/tenants/{id}/suspend", use: suspend)
        router.post("/v1/platform/tenants/{id}/reactivate", use: reactivate)
    }

    struct CreateRequest: Decodable {
        struct Admin: Decodable {
            let account: String?
            let password: String?
            let displayName: String?
            let phone: String?
        }
        let slug: String?
        let name: String?
        let seatLimit: Int?
        let admin: Admin?
    }

    struct Created: ResponseEncodable {
        let tenant: TenantView
        let admin: EmployeeView
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<Created> {
        try context.requirePlatformOperator()
        let body = try await request.decode(as: CreateRequest.self, context: context)
        var v = Validation()
        let slug = v.text(body.slug?.lowercased(), "slug", length: 3...40)
        if let slug, slug.range(of: #"^[a-z0-9][a-z0-9-]+[a-z0-9]$"#, options: .regularExpression) == nil {
            v.add("slug", "may hold only lower-case letters, digits and inner hyphens")
        }
        let name = v.text(body.name, "name", length: 1...100)
        v.check(body.seatLimit.map { $0 >= 1 && $0 <= 100_000 } ?? false, "seat_limit", "must be an integer from 1 to 100000")
        if body.admin == nil { v.add("admin", "is required", code: "required") }
        let account = v.text(body.admin?.account, "admin.account", length: 2...64)
        if let account { EmployeeInput.validateAccount(account, field: "admin.account", into: &v) }
        PasswordHasher.validate(body.admin?.password, field: "admin.password", into: &v)
        let displayName = v.text(body.admin?.displayName, "admin.display_name", length: 1...50)
        // The super admin holds sensitive permissions: without a phone they could never pass the second factor.
        let phone = v.text(body.admin?.phone, "admin.phone", length: 5...20)
        if let phone { EmployeeInput.validatePhone(phone, field: "admin.phone", into: &v) }
        try v.throwIfInvalid()

        let hash = try await accounts.hasher.hash(body.admin!.password!)
        let tenant = TenantID()
        let actor = AuditActor(context: context)
        let created = try await accounts.database.withTenant(tenant) { tx -> Created in
            try await rejectingDuplicates(as: .conflict(code: "slug_taken", detail: "Another tenant already uses the slug \(slug!).")) {
                try await tx.query("""
                    INSERT INTO accounts.tenants (tenant_id, slug, name, seat_limit)
                    VALUES (\(tenant.uuid), \(slug!), \(name!), \(body.seatLimit!))
                    """)
            }
            let superAdmin = try await tx.insertRole(BuiltInRoles.superAdmin)
            for template in BuiltInRoles.templates { _ = try await tx.insertRole(template) }
            let admin = try await tx.insertEmployee(
                EmployeeInput(account: account!, displayName: displayName!, phone: phone), passwordHash: hash
            )
            try await tx.query("""
                INSERT INTO accounts.employee_roles (tenant_id, employee_id, role_id) VALUES (\(tenant.uuid), \(admin.id), \(superAdmin))
                """)
            let view = try await tx.tenantView()!
            try await tx.publish(TenantCreated(tenantId: tenant, slug: view.slug, name: view.name, seatLimit: view.seatLimit))
            try await tx.publish(EmployeeCreated(employee: admin.snapshot))
            let adminView = try await tx.employeeView(admin, viewer: nil)
            try await tx.audit(actor, action: "tenant.created", targetType: "tenant", targetID: tenant.description, after: view)
            return Created(tenant: view, admin: adminView)
        }
        return EditedResponse(status: .created, response: created)
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<TenantView> {
        try context.requirePlatformOperator()
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: String.self)
        // Across tenants: only the platform role may call this.
        let rows = try await accounts.platformDatabase.rows("""
            SELECT tenant_id, slug, name, seat_limit, status, created_at FROM accounts.platform_tenants(\(after), \(page.limit + 1)::integer)
            """)
        var tenants: [TenantView] = []
        for row in rows {
            let r = try row.decode((UUID, String, String, Int, String, Date).self)
            tenants.append(TenantView(id: TenantID(r.0), slug: r.1, name: r.2, seatLimit: r.3, status: r.4, counts: nil, createdAt: r.5))
        }
        return try page.page(from: tenants) { $0.slug }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> TenantView {
        try context.requirePlatformOperator()
        let tenant = try context.parameters.tenantID()
        guard let view = try await accounts.database.withTenant(tenant, { try await $0.tenantView() }) else {
            throw Problem.notFound("tenant")
        }
        return view
    }

    struct UpdateRequest: Decodable {
        let name: String?
        let seatLimit: Int?
    }

    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> TenantView {
        try context.requirePlatformOperator()
        let tenant = try context.parameters.tenantID()
        let body = try await request.decode(as: UpdateRequest.self, context: context)
        var v = Validation()
        let name = v.text(body.name, "name", length: 1...100, optional: true)
        if let seatLimit = body.seatLimit { v.check(seatLimit >= 1 && seatLimit <= 100_000, "seat_limit", "must be an integer from 1 to 100000") }
        try v.throwIfInvalid()
        let actor = AuditActor(context: context)
        return try await accounts.database.withTenant(tenant) { tx in
            guard let before = try await tx.tenantView() else { throw Problem.notFound("tenant") }
            try await tx.query("""
                UPDATE accounts.tenants SET name = coalesce(\(name), name), seat_limit = coalesce(\(body.seatLimit), seat_limit),
                    updated_at = now()
                """)
            let after = try await tx.tenantView()!
            try await tx.publish(TenantUpdated(tenantId: tenant, name: after.name, seatLimit: after.seatLimit))
            try await tx.audit(actor, action: "tenant.updated", targetType: "tenant", targetID: tenant.description, before: before, after: after)
            return after
        }
    }

    @Sendable func suspend(request: Request, context: KefuRequestContext) async throws -> TenantView {
        try await setStatus("suspended", request: request, context: context)
    }

    @Sendable func reactivate(request: Request, context: KefuRequestContext) async throws -> TenantView {
        try await setStatus("active", request: request, context: context)
    }

    /// Suspension stops the tenant's sign-ins, refreshes and API-key exchanges here, and its
    /// existing tokens everywhere (through the revocation event).
    func setStatus(_ status: String, request: Request, context: KefuRequestContext) async throws -> TenantView {
        try context.requirePlatformOperator()
        let tenant = try context.parameters.tenantID()
        let actor = AuditActor(context: context)
        return try await accounts.database.withTenant(tenant) { tx in
            guard let before = try await tx.tenantView() else { throw Problem.notFound("tenant") }
            guard before.status != status else { return before }
            try await tx.query("UPDATE accounts.tenants SET status = \(status), updated_at = now()")
            if status == "suspended" {
                try await tx.publish(TenantSuspended(tenantId: tenant))
            } else {
                try await tx.publish(TenantReactivated(tenantId: tenant))
            }
            let after = try await tx.tenantView()!
            try await tx.audit(actor, action: status == "suspended" ? "tenant.suspended" : "tenant.reactivated",
                               targetType: "tenant", targetID: tenant.description, before: before, after: after)
            return after
        }
    }
}

extension Parameters {
    func tenantID() throws -> TenantID { TenantID(try uuid(what: "tenant")) }
}
