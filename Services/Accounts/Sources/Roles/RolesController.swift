import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `/v1/permissions` (the catalogue), `/v1/roles` and role assignment.
struct RolesController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/permissions", use: permissions)
        router.get("/v1/roles", use: list)
        router.post("/v1/roles", use: create)
        router.get("/v1/roles/{id}", use: show)
        router.patch("/v1/roles/{id}", use: update)
        router.delete("/v1/roles/{id}", use: delete)
        router.put("/v1/employees/{id}/roles", use: assign)
    }

    struct Catalogue: ResponseEncodable {
        struct Group: Encodable {
            let group: PermissionGroup
            let permissions: [PermissionInfo]
        }
        let groups: [Group]
        let customerScopes: [CustomerDataScope]
        let organisationScopes: [OrganisationDataScope]
    }

    /// Any signed-in principal may read the catalogue: it is the same for every tenant.
    @Sendable func permissions(request: Request, context: KefuRequestContext) async throws -> Catalogue {
        _ = try context.requireAuthentication()
        return Catalogue(
            groups: PermissionGroup.allCases.map { group in
                Catalogue.Group(group: group, permissions: PermissionCatalogue.all.filter { $0.group == group })
            },
            customerScopes: CustomerDataScope.allCases, organisationScopes: OrganisationDataScope.allCases
        )
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<RoleView> {
        let principal = try context.requirePermission(.enterpriseRoles)
        let roles = try await accounts.database.withTenant(principal.tenantID) { try await $0.roles() }
        // A tenant has a handful of roles: one page holds them all.
        return Page(data: roles, nextCursor: nil)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> RoleView {
        let principal = try context.requirePermission(.enterpriseRoles)
        let id = try context.parameters.uuid(what: "role")
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let role = try await tx.roles(ids: [id]).first else { throw Problem.notFound("role") }
            return role
        }
    }

    struct RoleRequest: Decodable, Sendable {
        let name: String?
        let permissions: [String]?
        let dataScopes: ScopesRequest?

        struct ScopesRequest: Decodable, Sendable {
            let customers: [String]?
            let organisation: String?
        }
    }

    /// Validated role fields; nil members were left out of the request.
    struct ValidRole {
        var name: String?
        var permissions: Set<Permission>?
        var customerScopes: Set<CustomerDataScope>?
        var organisationScope: OrganisationDataScope?
    }

    func validate(_ body: RoleRequest, creating: Bool) throws -> ValidRole {
        var v = Validation()
        var role = ValidRole()
        role.name = v.text(body.name, "name", length: 1...10, optional: !creating)
        if let permissions = body.permissions {
            for (index, key) in permissions.enumerated() where PermissionCatalogue.byKey[Permission(rawValue: key)] == nil {
                v.add("permissions[\(index)]", "is not a permission of the catalogue (/v1/permissions)", code: "unknown_permission")
            }
            role.permissions = Set(permissions.map(Permission.init(rawValue:)))
        } else if creating {
            v.add("permissions", "is required", code: "required")
        }
        if let customers = body.dataScopes?.customers {
            for (index, scope) in customers.enumerated() where CustomerDataScope(rawValue: scope) == nil {
                v.add("data_scopes.customers[\(index)]", "must be one of \(CustomerDataScope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            role.customerScopes = Set(customers.compactMap(CustomerDataScope.init(rawValue:)))
        }
        if let organisation = body.dataScopes?.organisation {
            role.organisationScope = OrganisationDataScope(rawValue: organisation)
            if role.organisationScope == nil { v.add("data_scopes.organisation", "must be company or my_department") }
        }
        try v.throwIfInvalid()
        return role
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<RoleView> {
        let principal = try context.requirePermission(.enterpriseRoles)
        let role = try validate(try await request.decode(as: RoleRequest.self, context: context), creating: true)
        let scopes = DataScopes(customers: role.customerScopes ?? [.mine], organisation: role.organisationScope ?? .myDepartment)
        let actor = AuditActor(context: context)
        let view = try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.authority(of: principal).requireGrantable(role.permissions!, scopes: scopes)
            let id = try await tx.insertRole(name: role.name!, kind: "custom", permissions: role.permissions!, scopes: scopes)
            let view = try await tx.roles(ids: [id])[0]
            try await tx.publish(RoleChanged(roleId: id, name: view.name, permissions: view.permissions, exists: true))
            try await tx.audit(actor, action: "role.created", targetType: "role", targetID: id.uuidString.lowercased(), after: view)
            return view
        }
        return EditedResponse(status: .created, response: view)
    }

    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> RoleView {
        let principal = try context.requirePermission(.enterpriseRoles)
        let id = try context.parameters.uuid(what: "role")
        let role = try validate(try await request.decode(as: RoleRequest.self, context: context), creating: false)
        let actor = AuditActor(context: context)
        return try await accounts.database.withTenant(principal.tenantID) { [accounts] tx in
            guard let before = try await tx.roles(ids: [id]).first else { throw Problem.notFound("role") }
            // A role above the caller is not theirs to change, and what it becomes must be within them too.
            let authority = try await tx.authority(of: principal)
            try authority.requireGrantable([before])
            guard before.kind != "super_admin" else {
                throw Problem.conflict(code: "role_immutable", detail: "The super admin role cannot be edited.")
            }
            try authority.requireGrantable(
                role.permissions ?? Set(before.permissions.map(Permission.init(rawValue:))),
                scopes: DataScopes(customers: role.customerScopes ?? before.dataScopes.customers,
                                   organisation: role.organisationScope ?? before.dataScopes.organisation)
            )
            try await rejectingDuplicates(as: .conflict(code: "role_name_taken", detail: "Another role is already named \(role.name ?? "").")) {
                try await tx.query("""
                    UPDATE accounts.roles SET name = \(role.name ?? before.name),
                        permissions = \(role.permissions.map { $0.map(\.rawValue).sorted() } ?? before.permissions),
                        customer_scopes = \(role.customerScopes.map { $0.map(\.rawValue).sorted() } ?? before.dataScopes.customers.map(\.rawValue).sorted()),
                        organisation_scope = \((role.organisationScope ?? before.dataScopes.organisation).rawValue),
                        updated_at = now()
                    WHERE id = \(id)
                    """)
            }
            let after = try await tx.roles(ids: [id])[0]
            try await tx.publish(RoleChanged(roleId: id, name: after.name, permissions: after.permissions, exists: true))
            try await accounts.endSessionsWithoutSecondFactor(tx, employees: try await tx.holders(ofRole: id))
            try await tx.audit(actor, action: "role.updated", targetType: "role", targetID: id.uuidString.lowercased(), before: before, after: after)
            return after
        }
    }

    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.enterpriseRoles)
        let id = try context.parameters.uuid(what: "role")
        let actor = AuditActor(context: context)
        try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let before = try await tx.roles(ids: [id]).first else { throw Problem.notFound("role") }
            try await tx.authority(of: principal).requireGrantable([before])
            guard before.kind != "super_admin" else {
                throw Problem.conflict(code: "role_immutable", detail: "The super admin role cannot be deleted.")
            }
            let holders = try await tx.query("""
                SELECT count(*)::int FROM accounts.employee_roles er JOIN accounts.employees e
                ON e.tenant_id = er.tenant_id AND e.id = er.employee_id AND e.status <> 'deleted' WHERE er.role_id = \(id)
                """).decode(Int.self).reduce(0, +)
            guard holders == 0 else {
                throw Problem.conflict(code: "role_in_use", detail: "\(holders) employees hold this role; take it from them first.")
            }
            try await tx.query("DELETE FROM accounts.roles WHERE id = \(id)")
            try await tx.publish(RoleChanged(roleId: id, name: nil, permissions: [], exists: false))
            try await tx.audit(actor, action: "role.deleted", targetType: "role", targetID: id.uuidString.lowercased(), before: before)
        }
        return .noContent
    }

    struct AssignRequest: Decodable {
        let roleIds: [UUID]
    }

    @Sendable func assign(request: Request, context: KefuRequestContext) async throws -> EmployeeView {
        let principal = try context.requirePermission(.enterpriseRoles)
        let id = try context.parameters.uuid(what: "employee")
        let body = try await request.decode(as: AssignRequest.self, context: context)
        // Nobody changes their own roles: otherwise the roles permission grants itself anything
        // its holder can make a role of.
        guard principal.employeeID?.uuid != id else {
            throw Problem(.forbidden, code: "cannot_change_own_roles", detail: "You cannot change your own roles; ask another admin.")
        }
        let actor = AuditActor(context: context)
        return try await accounts.database.withTenant(principal.tenantID) { [accounts] tx in
            let (employee, authority) = try await tx.manageableEmployee(id, principal: principal)
            let before = try await tx.employeeView(employee, viewer: nil)
            let superAdmin = try await tx.superAdminRoleID()
            if before.roleIds.contains(superAdmin), !body.roleIds.contains(superAdmin),
               try await tx.otherActiveSuperAdmins(excluding: id) == 0 {
                throw Problem.conflict(code: "last_super_admin", detail: "This is the last active super admin; make someone else super admin first.")
            }
            try await tx.query("DELETE FROM accounts.employee_roles WHERE employee_id = \(id)")
            try await tx.assignRoles(body.roleIds, to: id, authority: authority)
            let after = try await tx.employeeView(employee, viewer: principal.employeeID?.uuid)
            try await tx.publish(EmployeeRolesChanged(employeeId: EmployeeID(id), roleIds: after.roleIds))
            try await accounts.endSessionsWithoutSecondFactor(tx, employees: [id])
            try await tx.audit(actor, action: "employee.roles_changed", targetType: "employee", targetID: id.uuidString.lowercased(),
                               before: ["role_ids": before.roleIds], after: ["role_ids": after.roleIds])
            return after
        }
    }
}

extension TenantTransaction {
    /// Adds roles to an employee; every role must exist (422 naming it) and be grantable by the caller.
    func assignRoles(_ roleIDs: [UUID], to employee: UUID, authority: Authority) async throws {
        let roles = try await roles(ids: roleIDs)
        for (index, id) in roleIDs.enumerated() where !roles.contains(where: { $0.id == id }) {
            throw Problem.invalid("role_ids[\(index)]", "does not exist", code: "not_found")
        }
        try authority.requireGrantable(roles)
        for role in Set(roleIDs) {
            try await query("""
                INSERT INTO accounts.employee_roles (tenant_id, employee_id, role_id) VALUES (\(tenantID.uuid), \(employee), \(role))
                """)
        }
    }

    /// Employees (not deleted) holding the role.
    func holders(ofRole role: UUID) async throws -> [UUID] {
        try await query("""
            SELECT er.employee_id FROM accounts.employee_roles er JOIN accounts.employees e
            ON e.tenant_id = er.tenant_id AND e.id = er.employee_id AND e.status <> 'deleted' WHERE er.role_id = \(role)
            """).decode(UUID.self).reduce(into: []) { $0.append($1) }
    }
}
