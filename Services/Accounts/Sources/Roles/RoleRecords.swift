import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// A role as the API shows it.
struct RoleView: ResponseEncodable, Codable, Sendable, Equatable {
    @LowercaseUUID var id: UUID
    let name: String
    let kind: String
    let permissions: [String]
    let dataScopes: DataScopes
    let createdAt: Date
    let updatedAt: Date
}

extension TenantTransaction {
    func insertRole(_ role: BuiltInRoles.Definition) async throws -> UUID {
        try await insertRole(name: role.name, kind: role.kind, permissions: role.permissions, scopes: role.scopes)
    }

    func insertRole(name: String, kind: String, permissions: Set<Permission>, scopes: DataScopes) async throws -> UUID {
        let id = UUID()
        try await rejectingDuplicates(as: .conflict(code: "role_name_taken", detail: "Another role is already named \(name).")) {
            try await query("""
                INSERT INTO accounts.roles (tenant_id, id, name, kind, permissions, customer_scopes, organisation_scope)
                VALUES (\(tenantID.uuid), \(id), \(name), \(kind), \(permissions.map(\.rawValue).sorted()),
                        \(scopes.customers.map(\.rawValue).sorted()), \(scopes.organisation.rawValue))
                """)
        }
        return id
    }

    func roles(ids: [UUID]? = nil) async throws -> [RoleView] {
        let rows = try await query("""
            SELECT id, name, kind, permissions, customer_scopes, organisation_scope, created_at, updated_at
            FROM accounts.roles WHERE \(ids == nil) OR id = ANY(\(ids ?? []))
            ORDER BY kind = 'super_admin' DESC, kind = 'template' DESC, created_at, id
            """)
        var roles: [RoleView] = []
        for try await r in rows.decode((UUID, String, String, [String], [String], String, Date, Date).self) {
            roles.append(RoleView(
                id: r.0, name: r.1, kind: r.2, permissions: r.3,
                dataScopes: DataScopes(
                    customers: Set(r.4.compactMap(CustomerDataScope.init(rawValue:))),
                    organisation: OrganisationDataScope(rawValue: r.5) ?? .myDepartment
                ),
                createdAt: r.6, updatedAt: r.7
            ))
        }
        return roles
    }

    func superAdminRoleID() async throws -> UUID {
        let rows = try await query("SELECT id FROM accounts.roles WHERE kind = 'super_admin'")
        for try await id in rows.decode(UUID.self) { return id }
        throw Problem.notFound("role")
    }

    /// Active employees holding the super admin role, other than `excluding`. Holds the tenant
    /// row until the transaction ends: two super admins demoting each other at once are counted
    /// one after the other, so one stays.
    func otherActiveSuperAdmins(excluding employee: UUID) async throws -> Int {
        try await query("SELECT 1 FROM accounts.tenants FOR UPDATE")
        let rows = try await query("""
            SELECT count(*)::int FROM accounts.employee_roles er
            JOIN accounts.roles r ON r.tenant_id = er.tenant_id AND r.id = er.role_id AND r.kind = 'super_admin'
            JOIN accounts.employees e ON e.tenant_id = er.tenant_id AND e.id = er.employee_id AND e.status = 'active'
            WHERE er.employee_id <> \(employee)
            """)
        return try await rows.decode(Int.self).reduce(0, +)
    }

    /// Refuses to leave the tenant without an active super admin.
    func requireAnotherSuperAdmin(than employee: UUID) async throws {
        let access = try await effectiveAccess(employee: employee)
        if access.isSuperAdmin, try await otherActiveSuperAdmins(excluding: employee) == 0 {
            throw Problem.conflict(code: "last_super_admin", detail: "This is the last active super admin; make someone else super admin first.")
        }
    }
}
