import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `/v1/employees`: the organisation's members, within the caller's organisation scope.
struct EmployeesController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/employees", use: list)
        router.post("/v1/employees", use: create)
        router.get("/v1/employees/counts", use: counts)
        router.get("/v1/employees/{id}", use: show)
        router.patch("/v1/employees/{id}", use: update)
        router.delete("/v1/employees/{id}", use: delete)
        router.post("/v1/employees/{id}/disable", use: disable)
        router.post("/v1/employees/{id}/enable", use: enable)
    }

    struct CreateRequest: Decodable {
        let account: String?
        let password: String?
        let displayName: String?
        let departmentId: UUID?
        let position: String?
        let phone: String?
        let email: String?
        let avatarUrl: String?
        let hidePhone: Bool?
        let roleIds: [UUID]?
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<EmployeeView> {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let body = try await request.decode(as: CreateRequest.self, context: context)
        var v = Validation()
        let account = v.text(body.account, "account", length: 2...64)
        if let account { EmployeeInput.validateAccount(account, field: "account", into: &v) }
        PasswordHasher.validate(body.password, field: "password", into: &v)
        let displayName = v.text(body.displayName, "display_name", length: 1...50)
        let input = EmployeeInput(
            account: account ?? "", displayName: displayName ?? "", departmentID: body.departmentId,
            position: v.text(body.position, "position", length: 1...50, optional: true),
            phone: v.text(body.phone, "phone", length: 5...20, optional: true),
            email: v.text(body.email, "email", length: 3...254, optional: true),
            avatarURL: v.text(body.avatarUrl, "avatar_url", length: 8...2048, optional: true),
            hidePhone: body.hidePhone ?? false
        )
        Self.validateContact(input, into: &v)
        try v.throwIfInvalid()
        let hash = try await accounts.hasher.hash(body.password!)
        let actor = AuditActor(context: context)
        let view = try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            if let department = input.departmentID {
                try await referenced("department_id") { try await tx.requireReachableDepartment(department, reach: reach) }
            } else if !reach.isWholeCompany {
                throw Problem.invalid("department_id", "is required: you manage only your department and those below it", code: "required")
            }
            try await tx.requireFreeSeat()
            let employee = try await tx.insertEmployee(input, passwordHash: hash)
            if let roleIDs = body.roleIds {
                try await tx.assignRoles(roleIDs, to: employee.id, authority: try await tx.authority(of: principal))
            }
            let view = try await tx.employeeView(employee, viewer: principal.employeeID?.uuid)
            try await tx.publish(EmployeeCreated(employee: employee.snapshot))
            try await tx.audit(actor, action: "employee.created", targetType: "employee", targetID: view.id.uuidString.lowercased(), after: view)
            return view
        }
        return EditedResponse(status: .created, response: view)
    }

    static func validateContact(_ input: EmployeeInput, into v: inout Validation) {
        if let phone = input.phone { EmployeeInput.validatePhone(phone, field: "phone", into: &v) }
        if let email = input.email { EmployeeInput.validateEmail(email, field: "email", into: &v) }
        v.url(input.avatarURL, "avatar_url", optional: true)
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<EmployeeView> {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: String.self) ?? ""
        let query = request.uri.queryParameters
        let status = query["status"].map(String.init)
        if let status, !["active", "disabled", "deleted"].contains(status) {
            throw Problem.invalid("status", "must be active, disabled or deleted")
        }
        let department = try query["department_id"].map { raw in
            guard let id = UUID(uuidString: String(raw)) else { throw Problem.invalid("department_id", "must be a UUID") }
            return id
        }
        // Matched literally: % and _ typed by the user are not wildcards.
        let search = query["q"].map { raw in
            let escaped = String(raw).lowercased()
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            return "%\(escaped)%"
        }
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let records = try await EmployeeRecord.decode(tx.query("""
                SELECT \(unescaped: EmployeeRecord.columns) FROM accounts.employees
                WHERE (\(reach.isWholeCompany) OR department_id = ANY(\(reach.departments ?? [])) OR id = \(reach.selfID))
                  AND (\(status)::text IS NULL AND status <> 'deleted' OR status = \(status))
                  AND (\(department)::uuid IS NULL OR department_id = \(department))
                  AND (\(search)::text IS NULL OR lower(account) LIKE \(search) OR lower(display_name) LIKE \(search))
                  AND lower(account) > \(after)
                ORDER BY lower(account) LIMIT \(page.limit + 1)
                """))
            var views: [EmployeeView] = []
            for record in records { views.append(try await tx.employeeView(record, viewer: principal.employeeID?.uuid)) }
            return try page.page(from: views) { $0.account.lowercased() }
        }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> EmployeeView {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let id = try context.parameters.uuid(what: "employee")
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            let employee = try await tx.reachableEmployee(id, reach: try await tx.reach(of: principal), includingDeleted: true)
            return try await tx.employeeView(employee, viewer: principal.employeeID?.uuid)
        }
    }

    struct UpdateRequest: Decodable, Sendable {
        let displayName: PatchField<String>
        let departmentId: PatchField<UUID>
        let position: PatchField<String>
        let phone: PatchField<String>
        let email: PatchField<String>
        let avatarUrl: PatchField<String>
        let hidePhone: PatchField<Bool>

        enum CodingKeys: String, CodingKey {
            case displayName, departmentId, position, phone, email, avatarUrl, hidePhone
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            displayName = try c.decodePatch(String.self, forKey: .displayName)
            departmentId = try c.decodePatch(UUID.self, forKey: .departmentId)
            position = try c.decodePatch(String.self, forKey: .position)
            phone = try c.decodePatch(String.self, forKey: .phone)
            email = try c.decodePatch(String.self, forKey: .email)
            avatarUrl = try c.decodePatch(String.self, forKey: .avatarUrl)
            hidePhone = try c.decodePatch(Bool.self, forKey: .hidePhone)
        }
    }

    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> EmployeeView {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let id = try context.parameters.uuid(what: "employee")
        let body = try await request.decode(as: UpdateRequest.self, context: context)
        var v = Validation()
        if case .null = body.displayName { v.add("display_name", "cannot be cleared", code: "required") }
        if case .null = body.hidePhone { v.add("hide_phone", "must be true or false", code: "required") }
        let displayName = v.text(body.displayName.value, "display_name", length: 1...50, optional: true)
        let position = v.text(body.position.value, "position", length: 1...50, optional: true)
        let phone = v.text(body.phone.value, "phone", length: 5...20, optional: true)
        let email = v.text(body.email.value, "email", length: 3...254, optional: true)
        let avatar = v.text(body.avatarUrl.value, "avatar_url", length: 8...2048, optional: true)
        Self.validateContact(EmployeeInput(account: "", displayName: "", phone: phone, email: email, avatarURL: avatar), into: &v)
        try v.throwIfInvalid()
        let actor = AuditActor(context: context)
        let (view, phoneChange) = try await accounts.database.withTenant(principal.tenantID) { [accounts] tx -> (EmployeeView, PhoneChangeRequest?) in
            let reach = try await tx.reach(of: principal)
            let (before, _) = try await tx.manageableEmployee(id, principal: principal)
            if let department = body.departmentId.value {
                try await referenced("department_id") { try await tx.requireReachableDepartment(department, reach: reach) }
            } else if case .null = body.departmentId, !reach.isWholeCompany {
                throw Problem.invalid("department_id", "cannot be cleared: you manage only your department and those below it")
            }
            let newPosition = body.position.isPresent ? position : before.position
            // A new number takes effect only when the code sent to it comes back (the second
            // factor goes to this phone); clearing it needs no code. The old number is told either way.
            var phoneChange: PhoneChangeRequest?
            var newPhone = before.phone
            if body.phone.isPresent, phone != before.phone {
                if let phone {
                    phoneChange = try await accounts.requestPhoneChange(tx, employee: before, to: phone, actor: actor)
                } else {
                    newPhone = nil
                    phoneChange = PhoneChangeRequest(employee: before.id, oldPhone: before.phone, newPhone: nil, code: nil)
                }
            }
            let newEmail = body.email.isPresent ? email : before.email
            let newAvatar = body.avatarUrl.isPresent ? avatar : before.avatarURL
            try await tx.query("""
                UPDATE accounts.employees SET
                    display_name = \(displayName ?? before.displayName),
                    department_id = \(body.departmentId.applied(to: before.departmentID)),
                    position = \(newPosition), phone = \(newPhone), email = \(newEmail), avatar_url = \(newAvatar),
                    hide_phone = \(body.hidePhone.value ?? before.hidePhone), updated_at = now()
                WHERE id = \(id)
                """)
            let after = try await tx.employee(id: id)!
            let beforeView = try await tx.employeeView(before, viewer: nil)
            let afterView = try await tx.employeeView(after, viewer: principal.employeeID?.uuid)
            try await tx.publish(EmployeeUpdated(employee: after.snapshot))
            try await tx.audit(actor, action: "employee.updated", targetType: "employee", targetID: id.uuidString.lowercased(),
                               before: beforeView, after: try await tx.employeeView(after, viewer: nil))
            return (afterView, phoneChange)
        }
        if let phoneChange { await accounts.send(phoneChange, tenant: principal.tenantID) }
        var answer = view
        answer.pendingPhone = phoneChange?.newPhone
        return answer
    }

    @Sendable func disable(request: Request, context: KefuRequestContext) async throws -> EmployeeView {
        try await changeStatus(to: "disabled", request: request, context: context)
    }

    @Sendable func enable(request: Request, context: KefuRequestContext) async throws -> EmployeeView {
        try await changeStatus(to: "active", request: request, context: context)
    }

    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        _ = try await changeStatus(to: "deleted", request: request, context: context)
        return .noContent
    }

    func changeStatus(to status: String, request: Request, context: KefuRequestContext) async throws -> EmployeeView {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let id = try context.parameters.uuid(what: "employee")
        return try await accounts.database.withTenant(principal.tenantID) { [accounts] tx in
            let (employee, _) = try await tx.manageableEmployee(id, principal: principal)
            try await accounts.setStatus(tx, employee: employee, to: status, actor: AuditActor(context: context))
            return try await tx.employeeView(try await tx.employee(id: id, includingDeleted: true)!, viewer: principal.employeeID?.uuid)
        }
    }

    @Sendable func counts(request: Request, context: KefuRequestContext) async throws -> EmployeeCounts {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let counts = try await tx.tenantView()?.counts else { throw Problem.notFound("tenant") }
            return counts
        }
    }
}

extension Accounts {
    /// Enable, disable or delete: the seat limit on enable, the last super admin protected, and
    /// every credential of a disabled or deleted employee revoked.
    func setStatus(_ tx: TenantTransaction, employee: EmployeeRecord, to status: String, actor: AuditActor) async throws {
        guard employee.status != status else { return }
        if status == "active" { try await tx.requireFreeSeat() }
        if status != "active" {
            if actor.id == employee.id {
                throw Problem.conflict(code: "cannot_change_own_status", detail: "You cannot disable or delete your own account.")
            }
            try await tx.requireAnotherSuperAdmin(than: employee.id)
        }
        try await tx.query("UPDATE accounts.employees SET status = \(status), updated_at = now() WHERE id = \(employee.id)")
        if status != "active" {
            try await revokeAllSessions(tx, employee: employee.id, reason: status)
            try await tx.revokeApiKeys(createdBy: employee.id)
        }
        let after = try await tx.employee(id: employee.id, includingDeleted: true)!
        try await tx.publish(EmployeeStatusChanged(employee: after.snapshot, previousStatus: employee.status))
        let action = ["active": "employee.enabled", "disabled": "employee.disabled", "deleted": "employee.deleted"][status]!
        try await tx.audit(actor, action: action, targetType: "employee", targetID: employee.id.uuidString.lowercased(),
                           before: ["status": employee.status], after: ["status": status])
    }
}
