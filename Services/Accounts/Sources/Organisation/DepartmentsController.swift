import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `/v1/departments`: the organisation tree.
struct DepartmentsController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/departments", use: list)
        router.post("/v1/departments", use: create)
        router.get("/v1/departments/{id}", use: show)
        router.patch("/v1/departments/{id}", use: update)
        router.delete("/v1/departments/{id}", use: delete)
    }

    struct DepartmentView: ResponseEncodable, Codable, Sendable {
        @LowercaseUUID var id: UUID
        let name: String
        @LowercaseUUID var parentId: UUID?
        let employeeCount: Int
        let createdAt: Date
        let updatedAt: Date
    }

    /// Every department within reach, parents before children.
    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<DepartmentView> {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let all = try await tx.departments()
            return Page(data: all.filter { reach.includes(department: $0.id) }, nextCursor: nil)
        }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> DepartmentView {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let id = try context.parameters.uuid(what: "department")
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.requireReachableDepartment(id, reach: try await tx.reach(of: principal))
            return try await tx.departments(id: id)[0]
        }
    }

    struct CreateRequest: Decodable {
        let name: String?
        let parentId: UUID?
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<DepartmentView> {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let body = try await request.decode(as: CreateRequest.self, context: context)
        var v = Validation()
        let name = v.text(body.name, "name", length: 1...50)
        try v.throwIfInvalid()
        let actor = AuditActor(context: context)
        let view = try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            if let parent = body.parentId {
                try await referenced("parent_id") { try await tx.requireReachableDepartment(parent, reach: reach) }
            } else if !reach.isWholeCompany {
                throw Problem.invalid("parent_id", "is required: you manage only your department and those below it", code: "required")
            }
            let id = UUID()
            try await rejectingDuplicates(as: Self.nameTaken(name!)) {
                try await tx.query("""
                    INSERT INTO accounts.departments (tenant_id, id, parent_id, name) VALUES (\(tx.tenantID.uuid), \(id), \(body.parentId), \(name!))
                    """)
            }
            let view = try await tx.departments(id: id)[0]
            try await tx.publish(DepartmentChanged(departmentId: id, name: view.name, parentId: view.parentId, exists: true))
            try await tx.audit(actor, action: "department.created", targetType: "department", targetID: id.uuidString.lowercased(), after: view)
            return view
        }
        return EditedResponse(status: .created, response: view)
    }

    struct UpdateRequest: Decodable, Sendable {
        let name: PatchField<String>
        let parentId: PatchField<UUID>

        enum CodingKeys: String, CodingKey { case name, parentId }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodePatch(String.self, forKey: .name)
            parentId = try c.decodePatch(UUID.self, forKey: .parentId)
        }
    }

    /// Rename and/or move. A move under itself or one of its descendants is refused.
    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> DepartmentView {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let id = try context.parameters.uuid(what: "department")
        let body = try await request.decode(as: UpdateRequest.self, context: context)
        var v = Validation()
        if case .null = body.name { v.add("name", "cannot be cleared", code: "required") }
        let name = v.text(body.name.value, "name", length: 1...50, optional: true)
        try v.throwIfInvalid()
        let actor = AuditActor(context: context)
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            try await tx.requireReachableDepartment(id, reach: reach)
            let before = try await tx.departments(id: id)[0]
            let parent = body.parentId.applied(to: before.parentId)
            if let parent, parent != before.parentId {
                try await referenced("parent_id") { try await tx.requireReachableDepartment(parent, reach: reach) }
                if try await tx.departmentSubtree(id).contains(parent) {
                    throw Problem.invalid("parent_id", "is this department or one below it: the tree would have a cycle", code: "cycle")
                }
            }
            if parent == nil, before.parentId != nil, !reach.isWholeCompany {
                throw Problem.invalid("parent_id", "cannot be cleared: you manage only your department and those below it")
            }
            try await rejectingDuplicates(as: Self.nameTaken(name ?? before.name)) {
                try await tx.query("""
                    UPDATE accounts.departments SET name = \(name ?? before.name), parent_id = \(parent), updated_at = now() WHERE id = \(id)
                    """)
            }
            let after = try await tx.departments(id: id)[0]
            try await tx.publish(DepartmentChanged(departmentId: id, name: after.name, parentId: after.parentId, exists: true))
            try await tx.audit(actor, action: "department.updated", targetType: "department", targetID: id.uuidString.lowercased(),
                               before: before, after: after)
            return after
        }
    }

    /// Only an empty department goes: no departments below it and no employees (deleted ones aside).
    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let id = try context.parameters.uuid(what: "department")
        let actor = AuditActor(context: context)
        try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.requireReachableDepartment(id, reach: try await tx.reach(of: principal))
            let before = try await tx.departments(id: id)[0]
            let children = try await tx.query("SELECT count(*)::int FROM accounts.departments WHERE parent_id = \(id)").decode(Int.self).reduce(0, +)
            guard children == 0, before.employeeCount == 0 else {
                throw Problem.conflict(code: "department_not_empty",
                                       detail: "The department still has \(children) departments and \(before.employeeCount) employees.")
            }
            // Deleted employees keep their history but leave the tree.
            try await tx.query("UPDATE accounts.employees SET department_id = NULL WHERE department_id = \(id) AND status = 'deleted'")
            try await tx.query("DELETE FROM accounts.departments WHERE id = \(id)")
            try await tx.publish(DepartmentChanged(departmentId: id, name: nil, parentId: nil, exists: false))
            try await tx.audit(actor, action: "department.deleted", targetType: "department", targetID: id.uuidString.lowercased(), before: before)
        }
        return .noContent
    }

    static func nameTaken(_ name: String) -> Problem {
        .conflict(code: "department_name_taken", detail: "A department named \(name) already exists there.")
    }
}

extension TenantTransaction {
    /// Departments in tree order (parents first), with their employee counts.
    func departments(id: UUID? = nil) async throws -> [DepartmentsController.DepartmentView] {
        let rows = try await query("""
            WITH RECURSIVE tree AS (
                SELECT id, ARRAY[lower(name), id::text] AS path FROM accounts.departments WHERE parent_id IS NULL
                UNION ALL
                SELECT d.id, tree.path || ARRAY[lower(d.name), d.id::text] FROM accounts.departments d JOIN tree ON d.parent_id = tree.id
            )
            SELECT d.id, d.name, d.parent_id, d.created_at, d.updated_at,
                   (SELECT count(*)::int FROM accounts.employees e WHERE e.department_id = d.id AND e.status <> 'deleted')
            FROM accounts.departments d JOIN tree ON tree.id = d.id
            WHERE \(id)::uuid IS NULL OR d.id = \(id)
            ORDER BY tree.path
            """)
        var views: [DepartmentsController.DepartmentView] = []
        for try await r in rows.decode((UUID, String, UUID?, Date, Date, Int).self) {
            views.append(.init(id: r.0, name: r.1, parentId: r.2, employeeCount: r.5, createdAt: r.3, updatedAt: r.4))
        }
        return views
    }
}
