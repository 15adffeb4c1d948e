import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// What a caller holds, measured against the employees and roles it acts on: "nobody acts above
/// themselves" (DOMAIN.md §1). Permission and data scope answer "may you do this at all" and "may
/// you see this record"; this answers the third question for actions on people and roles — is
/// the target within what you hold yourself? Without it the organisation permission would be
/// every permission (edit the super admin's phone, reset their password, sign in as them).
struct Authority: Sendable {
    let permissions: Set<Permission>
    let scopes: DataScopes
    let isSuperAdmin: Bool
    /// The employee acting (nil for an API key).
    let employeeID: UUID?

    /// Whether an employee holding `access` is within this authority: their permissions and data
    /// scopes are a subset of the caller's, and a super admin only for a super admin.
    func covers(_ access: EffectiveAccess) -> Bool {
        (!access.isSuperAdmin || isSuperAdmin) && covers(permissions: access.permissions, scopes: access.scopes)
    }

    func covers(permissions: Set<Permission>, scopes: DataScopes) -> Bool {
        permissions.isSubset(of: self.permissions) && scopes.isWithin(self.scopes)
    }

    /// 403 unless the caller may hand out these permissions and scopes (a role, an API key).
    func requireGrantable(_ permissions: Set<Permission>, scopes: DataScopes? = nil) throws {
        let missing = permissions.subtracting(self.permissions)
        guard missing.isEmpty else {
            throw Problem(.forbidden, code: "permission_not_held",
                          detail: "You cannot grant permissions you do not hold: \(missing.map(\.rawValue).sorted().joined(separator: ", ")).")
        }
        if let scopes, !scopes.isWithin(self.scopes) {
            throw Problem(.forbidden, code: "scope_not_held",
                          detail: "You cannot grant data scopes wider than your own.")
        }
    }

    /// 403 unless every role is one the caller may grant (the super admin role: only a super admin).
    func requireGrantable(_ roles: [RoleView]) throws {
        if roles.contains(where: { $0.kind == "super_admin" }), !isSuperAdmin {
            throw Problem(.forbidden, code: "super_admin_only", detail: "Only a super admin makes someone super admin.")
        }
        for role in roles {
            try requireGrantable(Set(role.permissions.map(Permission.init(rawValue:))), scopes: role.dataScopes)
        }
    }
}

extension Problem {
    static let outranked = Problem(
        .forbidden, code: "target_outranks_caller",
        detail: "This employee holds permissions or data scopes you do not hold (or is a super admin): you cannot act on them."
    )
}

extension TenantTransaction {
    /// The caller's authority now: an employee's current roles (narrowed by what their token
    /// carries, e.g. a session that skipped the second factor), or an API key's token, which is
    /// already the intersection of the key and its creator. An API key is never a super admin.
    func authority(of principal: Principal) async throws -> Authority {
        guard let employee = principal.employeeID else {
            return Authority(permissions: principal.permissions, scopes: principal.dataScopes, isSuperAdmin: false, employeeID: nil)
        }
        let access = try await effectiveAccess(employee: employee.uuid)
        return Authority(
            permissions: access.permissions.intersection(principal.permissions),
            scopes: access.scopes.intersection(principal.dataScopes),
            isSuperAdmin: access.isSuperAdmin, employeeID: employee.uuid
        )
    }

    /// 403 unless `employee` is within `authority`. Call it after the reach check (404 first: an
    /// employee outside the caller's scope does not exist for them).
    func requireWithin(_ authority: Authority, employee: UUID) async throws {
        guard authority.covers(try await effectiveAccess(employee: employee)) else { throw Problem.outranked }
    }

    /// The employee if reachable (else 404) and within the caller's authority (else 403): the
    /// check of every route that changes an employee.
    func manageableEmployee(
        _ id: UUID, principal: Principal, includingDeleted: Bool = false
    ) async throws -> (EmployeeRecord, Authority) {
        let employee = try await reachableEmployee(id, reach: try await reach(of: principal), includingDeleted: includingDeleted)
        let authority = try await authority(of: principal)
        try await requireWithin(authority, employee: employee.id)
        return (employee, authority)
    }
}
