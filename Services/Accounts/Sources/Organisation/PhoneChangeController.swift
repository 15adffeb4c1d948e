import Foundation
import Hummingbird
import KefuCore
import KefuModels
import NIOCore

/// A changed phone waits for the code sent to it (`POST /v1/employees/{id}/phone-confirmation`).
/// The phone receives the second factor and "forgot password" codes, so whoever could set it
/// freely could take the account over; the old number is told of every change.
struct PhoneChangeController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/employees/{id}/phone-confirmation", use: confirm)
    }

    struct ConfirmRequest: Decodable {
        let code: String
    }

    /// The employee themselves, or whoever may manage them, enters the code the new phone received.
    @Sendable func confirm(request: Request, context: KefuRequestContext) async throws -> EmployeeView {
        let principal = try context.requireAuthentication()
        let id = try context.parameters.uuid(what: "employee")
        let body = try await request.decode(as: ConfirmRequest.self, context: context)
        let actor = AuditActor(context: context)
        let outcome = try await accounts.database.withTenant(principal.tenantID) { tx -> Result<EmployeeView, Problem> in
            if principal.employeeID?.uuid != id {
                try context.requirePermission(.enterpriseOrganisation)
                _ = try await tx.manageableEmployee(id, principal: principal)
            }
            guard let before = try await tx.employee(id: id) else { throw Problem.notFound("employee") }
            switch try await tx.checkPhoneChange(employee: id, code: body.code) {
            case .failure(let problem):
                try await tx.audit(actor, action: "employee.phone_confirmation_failed", targetType: "employee", targetID: id.uuidString.lowercased())
                return .failure(problem)
            case .success(let phone):
                try await tx.query("UPDATE accounts.employees SET phone = \(phone), updated_at = now() WHERE id = \(id)")
                let after = try await tx.employee(id: id)!
                try await tx.publish(EmployeeUpdated(employee: after.snapshot))
                try await tx.audit(actor, action: "employee.phone_changed", targetType: "employee", targetID: id.uuidString.lowercased(),
                                   before: ["phone": before.phone], after: ["phone": phone])
                return .success(try await tx.employeeView(after, viewer: principal.employeeID?.uuid))
            }
        }
        return try outcome.get()
    }
}

/// What to send once the change's transaction has committed.
struct PhoneChangeRequest: Sendable {
    let employee: UUID
    let oldPhone: String?
    /// nil: the phone was removed.
    let newPhone: String?
    let code: String?
}

extension Accounts {
    /// Wrong codes allowed per employee within an hour, across re-requests.
    static let phoneChangeFailureLimit = 10

    /// Records a pending change to `phone`, replacing any earlier one (its wrong guesses still count).
    func requestPhoneChange(_ tx: TenantTransaction, employee: EmployeeRecord, to phone: String, actor: AuditActor) async throws -> PhoneChangeRequest {
        let code = Secrets.sixDigitCode()
        let rows = try await tx.query("""
            INSERT INTO accounts.phone_changes AS c (tenant_id, employee_id, new_phone, code_hash, requested_by_type, requested_by, expires_at)
            VALUES (\(tx.tenantID.uuid), \(employee.id), \(phone), \(Secrets.digest(Self.phoneChangeSecret(employee.id, phone, code))),
                    \(actor.type), \(actor.id), now() + make_interval(secs => \(settings.phoneCodeLifetime)))
            ON CONFLICT (tenant_id, employee_id) DO UPDATE SET
                new_phone = excluded.new_phone, code_hash = excluded.code_hash, requested_by_type = excluded.requested_by_type,
                requested_by = excluded.requested_by, attempts = 0, expires_at = excluded.expires_at, created_at = now(),
                failures = CASE WHEN c.failures_since < now() - interval '1 hour' THEN 0 ELSE c.failures END,
                failures_since = CASE WHEN c.failures_since < now() - interval '1 hour' THEN now() ELSE c.failures_since END
            RETURNING failures
            """)
        let failures = try await rows.decode(Int.self).reduce(0, +)
        guard failures < Self.phoneChangeFailureLimit else {
            throw Problem(.tooManyRequests, code: "phone_change_locked",
                          detail: "Too many wrong codes for this employee's phone change; try again in an hour.",
                          headers: [.retryAfter: "3600"])
        }
        try await tx.audit(actor, action: "employee.phone_change_requested", targetType: "employee", targetID: employee.id.uuidString.lowercased())
        return PhoneChangeRequest(employee: employee.id, oldPhone: employee.phone, newPhone: phone, code: code)
    }

    /// Bound to the employee and the number, so a code confirms only the change it was sent for.
    static func phoneChangeSecret(_ employee: UUID, _ phone: String, _ code: String) -> String {
        "\(employee.uuidString.lowercased()):\(phone):\(code)"
    }

    /// The code to the new number, a notice to the old one. A failing gateway is logged, never
    /// surfaced: the change itself is already recorded and can be requested again.
    func send(_ change: PhoneChangeRequest, tenant: TenantID) async {
        do {
            if let phone = change.newPhone, let code = change.code {
                try await sms.send(tenant: tenant, phone: phone, message: "Kefu phone confirmation code: \(code). It expires in 5 minutes.")
            }
            if let old = change.oldPhone {
                let what = change.newPhone.map { "is being changed to \(maskedPhone($0))" } ?? "was removed"
                try await sms.send(tenant: tenant, phone: old, message: "Kefu: the phone of your account \(what). If you did not ask for this, tell your administrator.")
            }
        } catch {
            logger.error("phone change SMS failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}

extension TenantTransaction {
    /// The pending number when `code` is right; wrong codes count (and commit) against it.
    func checkPhoneChange(employee: UUID, code: String) async throws -> Result<String, Problem> {
        // The caller is signed in: a wrong code is a bad field (422), not bad credentials.
        let expired = Problem.conflict(code: "code_expired", detail: "No phone change is waiting for this employee, or its code expired; change the phone again.")
        let rows = try await query("""
            SELECT new_phone, code_hash, attempts, failures, expires_at > now() FROM accounts.phone_changes
            WHERE employee_id = \(employee) FOR UPDATE
            """)
        for try await (phone, hash, attempts, failures, live) in rows.decode((String, ByteBuffer, Int, Int, Bool).self) {
            guard live, attempts < 5, failures < Accounts.phoneChangeFailureLimit else { return .failure(expired) }
            guard Secrets.matches(hash, Accounts.phoneChangeSecret(employee, phone, code)) else {
                try await query("UPDATE accounts.phone_changes SET attempts = attempts + 1, failures = failures + 1 WHERE employee_id = \(employee)")
                return .failure(Problem.invalid("code", "is not the code sent to the new phone", code: "invalid_code"))
            }
            try await query("DELETE FROM accounts.phone_changes WHERE employee_id = \(employee)")
            return .success(phone)
        }
        return .failure(expired)
    }
}
