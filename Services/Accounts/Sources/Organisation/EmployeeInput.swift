import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// The editable fields of an employee, validated the same way on create, edit and CSV import.
struct EmployeeInput: Sendable {
    var account: String
    var displayName: String
    var departmentID: UUID? = nil
    var position: String? = nil
    var phone: String? = nil
    var email: String? = nil
    var avatarURL: String? = nil
    var hidePhone: Bool = false

    static func validateAccount(_ account: String, field: String, into v: inout Validation) {
        if account.range(of: #"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$"#, options: .regularExpression) == nil {
            v.add(field, "may hold letters, digits and . _ @ - (2 to 64 characters, starting with a letter or digit)")
        }
    }

    static func validatePhone(_ phone: String, field: String, into v: inout Validation) {
        if phone.range(of: #"^\+?[0-9][0-9 -]{4,19}$"#, options: .regularExpression) == nil {
            v.add(field, "is not a phone number")
        }
    }

    static func validateEmail(_ email: String, field: String, into v: inout Validation) {
        if email.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) == nil {
            v.add(field, "is not an email address")
        }
    }
}

/// An employee as the API shows it. The phone is left out when the employee hides it from
/// others (DOMAIN.md: "hide phone on the profile card").
struct EmployeeView: ResponseEncodable, Codable, Sendable, Equatable {
    @LowercaseUUID var id: UUID
    let account: String
    let displayName: String
    @LowercaseUUID var departmentId: UUID?
    let position: String?
    let phone: String?
    let email: String?
    let avatarUrl: String?
    let hidePhone: Bool
    let status: String
    @LowercaseUUID var roleIds: [UUID]
    let createdAt: Date
    let updatedAt: Date
    /// In the answer to a phone change: the number waiting for its confirmation code.
    var pendingPhone: String? = nil
}

extension EmployeeRecord {
    var snapshot: EmployeeSnapshot {
        EmployeeSnapshot(employeeId: EmployeeID(id), account: account, displayName: displayName, departmentId: departmentID, status: status)
    }
}

extension TenantTransaction {
    func insertEmployee(_ input: EmployeeInput, passwordHash: String) async throws -> EmployeeRecord {
        let id = UUID()
        try await rejectingDuplicates(as: .conflict(code: "account_taken", detail: "Another employee already signs in as \(input.account).")) {
            try await query("""
                INSERT INTO accounts.employees (tenant_id, id, account, display_name, department_id, position, phone, email,
                    avatar_url, hide_phone, password_hash)
                VALUES (\(tenantID.uuid), \(id), \(input.account), \(input.displayName), \(input.departmentID), \(input.position),
                    \(input.phone), \(input.email), \(input.avatarURL), \(input.hidePhone), \(passwordHash))
                """)
        }
        return try await employee(id: id)!
    }

    /// `viewer` nil: the platform or an API key, which see no hidden phone either.
    func employeeView(_ employee: EmployeeRecord, viewer: UUID?) async throws -> EmployeeView {
        let roles = try await query("SELECT role_id FROM accounts.employee_roles WHERE employee_id = \(employee.id) ORDER BY role_id")
            .decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }
        return EmployeeView(
            id: employee.id, account: employee.account, displayName: employee.displayName, departmentId: employee.departmentID,
            position: employee.position, phone: employee.hidePhone && viewer != employee.id ? nil : employee.phone,
            email: employee.email, avatarUrl: employee.avatarURL, hidePhone: employee.hidePhone, status: employee.status,
            roleIds: roles, createdAt: employee.createdAt, updatedAt: employee.updatedAt
        )
    }
}
