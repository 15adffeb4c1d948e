import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// Batch import of new employees, batch update of existing ones (both CSV, reported row by row
/// with line numbers; good rows are kept whatever the bad ones do; a re-run creates no
/// duplicates) and the organisation export.
struct OrganisationCSVController {
    let accounts: Accounts

    static let maxRows = 2000

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/employees/import", use: importEmployees)
        router.post("/v1/employees/batch-update", use: updateEmployees)
        router.get("/v1/organisation/export", use: export)
    }

    struct RowResult: Codable, Sendable {
        let line: Int
        let account: String?
        /// created, updated, skipped (already there: a re-run) or failed.
        let result: String
        let errors: [FieldError]
        /// An updated row's new phone, waiting for the code sent to it (`POST /v1/employees/{id}/phone-confirmation`).
        var pendingPhone: String? = nil
    }

    struct Report: ResponseEncodable, Sendable {
        let created: Int
        let updated: Int
        let skipped: Int
        let failed: Int
        let rows: [RowResult]

        init(_ rows: [RowResult]) {
            self.rows = rows
            created = rows.filter { $0.result == "created" }.count
            updated = rows.filter { $0.result == "updated" }.count
            skipped = rows.filter { $0.result == "skipped" }.count
            failed = rows.filter { $0.result == "failed" }.count
        }
    }

    func readSheet(_ request: Request, context: KefuRequestContext, required: [String], allowed: Set<String>) async throws -> CSVSheet {
        try await CSVSheet.read(
            request, context: context, required: required, allowed: allowed.contains, describeAllowed: allowed.sorted().joined(separator: ", "),
            maxRows: Self.maxRows
        )
    }

    static func flag(_ value: String?, field: String, into v: inout Validation) -> Bool? {
        guard let value, !value.isEmpty else { return nil }
        switch value.lowercased() {
        case "true", "yes", "1", "是": return true
        case "false", "no", "0", "否": return false
        default:
            v.add(field, "must be true or false")
            return nil
        }
    }

    // MARK: Import

    /// `status` is accepted and ignored so that an export can be fed back (new employees start active).
    static let importColumns: Set<String> = ["account", "password", "display_name", "department", "position", "phone", "email", "hide_phone", "roles", "status"]

    @Sendable func importEmployees(request: Request, context: KefuRequestContext) async throws -> Report {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let sheet = try await readSheet(request, context: context, required: ["account", "display_name"], allowed: Self.importColumns)
        let actor = AuditActor(context: context)
        let directory = try await Directory.load(accounts: accounts, principal: principal)
        var hashes: [String: String] = [:]
        var results: [RowResult] = []
        for (line, values) in sheet.records {
            let account = values["account"]
            var v = Validation()
            let input = EmployeeInput(
                account: v.text(account, "account", length: 2...64) ?? "",
                displayName: v.text(values["display_name"], "display_name", length: 1...50) ?? "",
                departmentID: directory.department(path: values["department"], into: &v),
                position: v.text(values["position"], "position", length: 1...50, optional: true),
                phone: v.text(values["phone"], "phone", length: 5...20, optional: true),
                email: v.text(values["email"], "email", length: 3...254, optional: true),
                hidePhone: Self.flag(values["hide_phone"], field: "hide_phone", into: &v) ?? false
            )
            if !input.account.isEmpty { EmployeeInput.validateAccount(input.account, field: "account", into: &v) }
            EmployeesController.validateContact(input, into: &v)
            let roleIDs = directory.roles(names: values["roles"], into: &v)
            // An account already there is skipped before its password is even looked at: a re-run,
            // or an export fed back (which has no passwords), changes nothing.
            if v.errors.isEmpty, try await accounts.database.withTenant(principal.tenantID, { try await $0.employee(account: input.account) }) != nil {
                results.append(RowResult(line: line, account: input.account, result: "skipped",
                                         errors: [FieldError(field: "account", code: "exists", message: "already exists; left as it is")]))
                continue
            }
            PasswordHasher.validate(values["password"].flatMap { $0.isEmpty ? nil : $0 }, field: "password", into: &v)
            guard v.errors.isEmpty else {
                results.append(RowResult(line: line, account: account, result: "failed", errors: v.errors))
                continue
            }
            let password = values["password"]!
            // One bcrypt per distinct password in the file: imports usually share an initial one.
            if hashes[password] == nil { hashes[password] = try await accounts.hasher.hash(password) }
            let hash = hashes[password]!
            do {
                let created = try await accounts.database.withTenant(principal.tenantID) { tx -> Bool in
                    if try await tx.employee(account: input.account) != nil { return false }
                    try await tx.requireFreeSeat()
                    let employee = try await tx.insertEmployee(input, passwordHash: hash)
                    if !roleIDs.isEmpty { try await tx.assignRoles(roleIDs, to: employee.id, authority: try await tx.authority(of: principal)) }
                    try await tx.publish(EmployeeCreated(employee: employee.snapshot))
                    try await tx.audit(actor, action: "employee.created", targetType: "employee", targetID: employee.id.uuidString.lowercased(),
                                       after: try await tx.employeeView(employee, viewer: nil))
                    return true
                }
                results.append(RowResult(
                    line: line, account: input.account, result: created ? "created" : "skipped",
                    errors: created ? [] : [FieldError(field: "account", code: "exists", message: "already exists; left as it is")]
                ))
            } catch let problem as Problem {
                results.append(RowResult(line: line, account: input.account, result: "failed", errors: problem.rowErrors))
            }
        }
        return Report(results)
    }

    // MARK: Batch update

    /// `roles` and `status` (export columns) are accepted and ignored: roles change through
    /// `PUT /v1/employees/{id}/roles`, status through enable/disable, each with its own checks.
    static let updateColumns: Set<String> = ["account", "display_name", "department", "position", "phone", "email", "hide_phone", "roles", "status"]

    @Sendable func updateEmployees(request: Request, context: KefuRequestContext) async throws -> Report {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let sheet = try await readSheet(request, context: context, required: ["account"], allowed: Self.updateColumns)
        let actor = AuditActor(context: context)
        let directory = try await Directory.load(accounts: accounts, principal: principal)
        let authority = try await accounts.database.withTenant(principal.tenantID) { try await $0.authority(of: principal) }
        let has = Set(sheet.columns)
        var results: [RowResult] = []
        for (line, values) in sheet.records {
            let account = values["account"] ?? ""
            var v = Validation()
            // A column present with an empty cell clears an optional field; a column left out keeps it.
            let displayName = has.contains("display_name") ? v.text(values["display_name"], "display_name", length: 1...50) : nil
            let department = has.contains("department") ? directory.department(path: values["department"], into: &v) : nil
            let position = v.text(values["position"], "position", length: 1...50, optional: true)
            let phone = v.text(values["phone"], "phone", length: 5...20, optional: true)
            let email = v.text(values["email"], "email", length: 3...254, optional: true)
            let hidePhone = Self.flag(values["hide_phone"], field: "hide_phone", into: &v)
            EmployeesController.validateContact(EmployeeInput(account: "", displayName: "", phone: phone, email: email), into: &v)
            if account.isEmpty { v.add("account", "is required", code: "required") }
            guard v.errors.isEmpty else {
                results.append(RowResult(line: line, account: account, result: "failed", errors: v.errors))
                continue
            }
            do {
                let phoneChange = try await accounts.database.withTenant(principal.tenantID) { [accounts] tx -> PhoneChangeRequest? in
                    guard let before = try await tx.employee(account: account), directory.reach.includes(before) else {
                        throw Problem.invalid("account", "no such employee", code: "not_found")
                    }
                    try await tx.requireWithin(authority, employee: before.id)
                    // As on PATCH: a new number waits for its code, a removed one is told. A blank
                    // cell of an employee who hides their phone is how the export shows it: kept.
                    var phoneChange: PhoneChangeRequest?
                    if has.contains("phone"), phone != before.phone, !(phone == nil && before.hidePhone) {
                        phoneChange = if let phone {
                            try await accounts.requestPhoneChange(tx, employee: before, to: phone, actor: actor)
                        } else {
                            PhoneChangeRequest(employee: before.id, oldPhone: before.phone, newPhone: nil, code: nil)
                        }
                    }
                    let newPhone = phoneChange != nil && phoneChange?.newPhone == nil ? nil : before.phone
                    try await tx.query("""
                        UPDATE accounts.employees SET
                            display_name = \(displayName ?? before.displayName),
                            department_id = \(has.contains("department") ? department : before.departmentID),
                            position = \(has.contains("position") ? position : before.position),
                            phone = \(newPhone),
                            email = \(has.contains("email") ? email : before.email),
                            hide_phone = \(hidePhone ?? before.hidePhone), updated_at = now()
                        WHERE id = \(before.id)
                        """)
                    let after = try await tx.employee(id: before.id)!
                    try await tx.publish(EmployeeUpdated(employee: after.snapshot))
                    try await tx.audit(actor, action: "employee.updated", targetType: "employee", targetID: before.id.uuidString.lowercased(),
                                       before: try await tx.employeeView(before, viewer: nil), after: try await tx.employeeView(after, viewer: nil))
                    return phoneChange
                }
                if let phoneChange { await accounts.send(phoneChange, tenant: principal.tenantID) }
                results.append(RowResult(line: line, account: account, result: "updated", errors: [], pendingPhone: phoneChange?.newPhone))
            } catch let problem as Problem {
                results.append(RowResult(line: line, account: account, result: "failed", errors: problem.rowErrors))
            }
        }
        return Report(results)
    }

    // MARK: Export

    /// The organisation within the caller's reach as CSV, in the import's columns (no
    /// passwords; hidden phones left blank) plus status.
    @Sendable func export(request: Request, context: KefuRequestContext) async throws -> Response {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let directory = try await Directory.load(accounts: accounts, principal: principal)
        let header = CSV.line(["account", "display_name", "department", "position", "phone", "email", "hide_phone", "roles", "status"])
        let rows = try await accounts.database.withTenant(principal.tenantID) { [directory] tx -> String in
            let employees = try await EmployeeRecord.decode(tx.query("""
                SELECT \(unescaped: EmployeeRecord.columns) FROM accounts.employees WHERE status <> 'deleted' ORDER BY lower(account)
                """))
            var lines = ""
            for employee in employees where directory.reach.includes(employee) {
                let roles = try await tx.effectiveAccess(employee: employee.id).roleIDs.compactMap { directory.roleNames[$0] }
                lines += CSV.line([
                    employee.account, employee.displayName, employee.departmentID.flatMap { directory.paths[$0] } ?? "",
                    employee.position ?? "", employee.hidePhone ? "" : employee.phone ?? "", employee.email ?? "",
                    employee.hidePhone ? "true" : "false", roles.joined(separator: ";"), employee.status,
                ])
            }
            return lines
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"organisation.csv\""],
            body: .init(byteBuffer: ByteBuffer(string: header + rows))
        )
    }
}

/// Departments by path ("Sales/East") and roles by name, within the caller's reach: what CSV
/// rows refer to.
struct Directory: Sendable {
    let reach: OrganisationReach
    let paths: [UUID: String]
    let departmentsByPath: [String: UUID]
    let roleNames: [UUID: String]
    let rolesByName: [String: UUID]

    static func load(accounts: Accounts, principal: Principal) async throws -> Directory {
        try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let departments = try await tx.departments()
            var paths: [UUID: String] = [:]
            for department in departments {
                // Tree order: a parent's path is known before its children's.
                let parent = department.parentId.flatMap { paths[$0] }
                paths[department.id] = parent.map { "\($0)/\(department.name)" } ?? department.name
            }
            let roles = try await tx.roles()
            return Directory(
                reach: reach, paths: paths,
                departmentsByPath: Dictionary(paths.filter { reach.includes(department: $0.key) }.map { ($0.value.lowercased(), $0.key) }) { a, _ in a },
                roleNames: Dictionary(uniqueKeysWithValues: roles.map { ($0.id, $0.name) }),
                rolesByName: Dictionary(roles.map { ($0.name.lowercased(), $0.id) }) { a, _ in a }
            )
        }
    }

    func department(path: String?, into v: inout Validation) -> UUID? {
        guard let path = path?.trimmingCharacters(in: .whitespaces), !path.isEmpty else {
            if !reach.isWholeCompany { v.add("department", "is required: you manage only your department and those below it", code: "required") }
            return nil
        }
        let normalised = path.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "/").lowercased()
        guard let id = departmentsByPath[normalised] else {
            v.add("department", "no department \(path) (write the path from the top, e.g. Sales/East)", code: "not_found")
            return nil
        }
        return id
    }

    func roles(names: String?, into v: inout Validation) -> [UUID] {
        guard let names, !names.isEmpty else { return [] }
        return names.split(separator: ";").compactMap { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let id = rolesByName[trimmed.lowercased()] else {
                v.add("roles", "no role named \(trimmed)", code: "not_found")
                return nil
            }
            return id
        }
    }
}
