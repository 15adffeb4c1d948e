import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `/v1/me`: the signed-in employee's own profile, access and password.
struct MeController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/me", use: me)
        router.post("/v1/me/password", use: changePassword)
    }

    struct Me: Encodable, Sendable {
        struct Tenant: Encodable, Sendable {
            let id: TenantID
            let slug: String
            let name: String
        }
        struct Role: Encodable, Sendable {
            @LowercaseUUID var id: UUID
            let name: String
        }
        let employee: EmployeeView
        let tenant: Tenant
        let roles: [Role]
        let permissions: [String]
        let dataScopes: DataScopes
    }

    /// Profile, roles, effective permissions and data scopes as they are now (a token may be up to
    /// one access-token lifetime behind a role change). Clients call it on every page, so it is
    /// answered from `accounts.profiles`, which forgets a tenant's profiles whenever it changes.
    @Sendable func me(request: Request, context: KefuRequestContext) async throws -> Response {
        let principal = try context.requireAuthentication()
        guard let employeeID = principal.employeeID else {
            throw Problem.badRequest(code: "not_an_employee", detail: "/v1/me describes employees; this is an API key.")
        }
        // The encoded answer is what is kept: encoding cost as much as the rest of a cached request.
        let body = try await accounts.profiles.value(principal.tenantID, employeeID) { () -> ByteBuffer? in
            let me = try await accounts.database.withTenant(principal.tenantID) { try await $0.me(employeeID.uuid) }
            return try me.map { ByteBuffer(data: try KefuJSON.encoder().encode($0)) }
        }
        guard let body else { throw Problem.unauthorized("This account no longer exists.") }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    struct ChangePasswordRequest: Decodable {
        let oldPassword: String
        let newPassword: String
    }

    /// Any employee, old password required. Other sessions end; this one continues. A wrong old
    /// password counts against the account like a failed sign-in (a stolen session must not be a
    /// way around the lockout), claimed before bcrypt in the same way.
    @Sendable func changePassword(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requireAuthentication()
        guard let employeeID = principal.employeeID else {
            throw Problem.badRequest(code: "not_an_employee", detail: "API keys have no password.")
        }
        let body = try await request.decode(as: ChangePasswordRequest.self, context: context)
        var v = Validation()
        PasswordHasher.validate(body.newPassword, field: "new_password", into: &v)
        try v.throwIfInvalid()
        let wrong = Problem.invalid("old_password", "is not your current password", code: "wrong_password")
        let claimed = try await accounts.database.withTenant(principal.tenantID) { [settings = accounts.settings] tx -> (EmployeeRecord, Date?)? in
            guard let employee = try await tx.employee(id: employeeID.uuid) else { return nil }
            return (employee, try await tx.claimAttempt(key: AttemptKey.password(account: employee.account), settings: settings))
        }
        guard let (employee, lockedUntil) = claimed else { throw wrong }
        if let lockedUntil { throw Problem.locked(until: lockedUntil) }
        guard try await accounts.hasher.verify(body.oldPassword, hash: employee.passwordHash) else { throw wrong }
        let hash = try await accounts.hasher.hash(body.newPassword)
        let actor = AuditActor(context: context)
        try await accounts.database.withTenant(principal.tenantID) { [accounts] tx in
            try await tx.clearAttempts(key: AttemptKey.password(account: employee.account))
            try await accounts.setPassword(tx, employee: employee.id, hash: hash)
            try await accounts.revokeOtherSessions(tx, employee: employee.id, keeping: principal.sessionID)
            try await tx.audit(actor, action: "employee.password_changed", targetType: "employee", targetID: employee.id.uuidString.lowercased())
        }
        return .noContent
    }
}

extension TenantTransaction {
    /// The whole of `/v1/me` in one round trip: it is the most frequent call of every client.
    func me(_ id: UUID) async throws -> MeController.Me? {
        for try await me in try await connection.execute(MeStatement(employee: id), logger: logger) { return me }
        return nil
    }
}

/// Prepared: planning this query (row-level security on four tables) costs more than running
/// it, so it is planned once per connection.
struct MeStatement: PostgresPreparedStatement {
    static let name = "accounts_me"
    static let sql = """
        SELECT \(EmployeeRecord.columns.split(separator: ",").map { "e." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")),
               t.tenant_id, t.slug, t.name,
               coalesce(array_agg(r.id ORDER BY r.created_at, r.id) FILTER (WHERE r.id IS NOT NULL), '{}'),
               coalesce(array_agg(r.name ORDER BY r.created_at, r.id) FILTER (WHERE r.id IS NOT NULL), '{}'),
               coalesce((SELECT array_agg(DISTINCT p) FROM accounts.roles r2 JOIN accounts.employee_roles er2
                           ON er2.tenant_id = r2.tenant_id AND er2.role_id = r2.id, unnest(r2.permissions) p
                         WHERE er2.employee_id = e.id), '{}'),
               coalesce((SELECT array_agg(DISTINCT c) FROM accounts.roles r2 JOIN accounts.employee_roles er2
                           ON er2.tenant_id = r2.tenant_id AND er2.role_id = r2.id, unnest(r2.customer_scopes) c
                         WHERE er2.employee_id = e.id), '{}'),
               coalesce(bool_or(r.organisation_scope = 'company'), false)
        FROM accounts.employees e CROSS JOIN accounts.tenants t
        LEFT JOIN accounts.employee_roles er ON er.tenant_id = e.tenant_id AND er.employee_id = e.id
        LEFT JOIN accounts.roles r ON r.tenant_id = er.tenant_id AND r.id = er.role_id
        WHERE e.id = $1 AND e.status <> 'deleted'
        GROUP BY e.tenant_id, e.id, t.tenant_id
        """
    typealias Row = MeController.Me

    let employee: UUID

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(employee)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        var cells = row.makeIterator()
        let employee = try EmployeeRecord.decode(&cells)
        func next<T: PostgresDecodable>(_: T.Type) throws -> T { try cells.next()!.decode(T.self, context: .default) }
        let (tenantID, slug, name) = (try next(UUID.self), try next(String.self), try next(String.self))
        let (roleIDs, roleNames) = (try next([UUID].self), try next([String].self))
        let (permissions, customerScopes, company) = (try next([String].self), try next([String].self), try next(Bool.self))
        let view = EmployeeView(
            id: employee.id, account: employee.account, displayName: employee.displayName, departmentId: employee.departmentID,
            position: employee.position, phone: employee.phone, email: employee.email, avatarUrl: employee.avatarURL,
            hidePhone: employee.hidePhone, status: employee.status, roleIds: roleIDs.sorted { $0.uuidString < $1.uuidString },
            createdAt: employee.createdAt, updatedAt: employee.updatedAt
        )
        return MeController.Me(
            employee: view, tenant: .init(id: TenantID(tenantID), slug: slug, name: name),
            roles: zip(roleIDs, roleNames).map { MeController.Me.Role(id: $0, name: $1) },
            permissions: permissions.sorted(),
            dataScopes: DataScopes(
                customers: Set(customerScopes.compactMap(CustomerDataScope.init(rawValue:))),
                organisation: company ? .company : .myDepartment
            )
        )
    }
}
