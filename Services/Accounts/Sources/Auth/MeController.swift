import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `/v1/me`: the signed-in employee's own profile, access and password.
struct MeController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/me", use: me)
        router.post("/v1/me/password", use: changePassword)
    }

    struct Me: ResponseEncodable {
        struct Tenant: Encodable {
            let id: TenantID
            let slug: String
            let name: String
        }
        struct Role: Encodable {
            @LowercaseUUID var id: UUID
            let name: String
        }
        let employee: EmployeeView
        let tenant: Tenant
        let roles: [Role]
        let permissions: [String]
        let dataScopes: DataScopes
    }

    /// Profile, roles, effective permissions and data scopes, read fresh (a token may be up to
    /// one access-token lifetime behind a role change).
    @Sendable func me(request: Request, context: KefuRequestContext) async throws -> Me {
        let principal = try context.requireAuthentication()
        guard let employeeID = principal.employeeID else {
            throw Problem.badRequest(code: "not_an_employee", detail: "/v1/me describes employees; this is an API key.")
        }
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let employee = try await tx.employee(id: employeeID.uuid), let tenant = try await tx.tenantView() else {
                throw Problem.unauthorized("This account no longer exists.")
            }
            let access = try await tx.effectiveAccess(employee: employee.id)
            let roles = try await tx.roles(ids: access.roleIDs)
            return Me(
                employee: try await tx.employeeView(employee, viewer: employee.id),
                tenant: Me.Tenant(id: tenant.id, slug: tenant.slug, name: tenant.name),
                roles: roles.map { Me.Role(id: $0.id, name: $0.name) },
                permissions: access.permissions.map(\.rawValue).sorted(),
                dataScopes: access.scopes
            )
        }
    }

    struct ChangePasswordRequest: Decodable {
        let oldPassword: String
        let newPassword: String
    }

    /// Any employee, old password required. Other sessions end; this one continues.
    @Sendable func changePassword(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requireAuthentication()
        guard let employeeID = principal.employeeID else {
            throw Problem.badRequest(code: "not_an_employee", detail: "API keys have no password.")
        }
        let body = try await request.decode(as: ChangePasswordRequest.self, context: context)
        var v = Validation()
        PasswordHasher.validate(body.newPassword, field: "new_password", into: &v)
        try v.throwIfInvalid()
        let employee = try await accounts.database.withTenant(principal.tenantID) { try await $0.employee(id: employeeID.uuid) }
        guard let employee, try await accounts.hasher.verify(body.oldPassword, hash: employee.passwordHash) else {
            throw Problem.invalid("old_password", "is not your current password", code: "wrong_password")
        }
        let hash = try await accounts.hasher.hash(body.newPassword)
        let actor = AuditActor(context: context)
        try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.query("""
                UPDATE accounts.employees SET password_hash = \(hash), password_changed_at = now(), updated_at = now() WHERE id = \(employee.id)
                """)
            try await tx.query("""
                UPDATE accounts.refresh_tokens SET revoked_at = now()
                WHERE employee_id = \(employee.id) AND revoked_at IS NULL AND family_id IS DISTINCT FROM \(principal.sessionID)::uuid
                """)
            try await tx.audit(actor, action: "employee.password_changed", targetType: "employee", targetID: employee.id.uuidString.lowercased())
        }
        return .noContent
    }
}
