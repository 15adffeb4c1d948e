import Foundation
import KefuCore
import KefuModels
import NIOCore

/// One-time six-digit codes sent by SMS: the second factor at sign-in and "forgot password".
/// A code expires after five minutes, works once, and allows a few attempts.
struct PhoneChallenge: Sendable {
    let id: UUID
    let phone: String
    let code: String
}

enum ChallengeOutcome: Sendable {
    case passed(employee: UUID)
    case failed(Problem)
}

extension Accounts {
    func createChallenge(_ tx: TenantTransaction, employee: EmployeeRecord, purpose: String) async throws -> PhoneChallenge? {
        guard let phone = employee.phone else { return nil }
        let challenge = PhoneChallenge(id: UUID(), phone: phone, code: Secrets.sixDigitCode())
        try await tx.query("""
            INSERT INTO accounts.phone_challenges (tenant_id, id, employee_id, purpose, code_hash, expires_at)
            VALUES (\(tx.tenantID.uuid), \(challenge.id), \(employee.id), \(purpose),
                    \(Secrets.digest(Self.codeSecret(challenge: challenge.id, code: challenge.code))), now() + make_interval(secs => \(settings.phoneCodeLifetime)))
            """)
        return challenge
    }

    /// Bound to the challenge, so a code cannot be replayed against another one.
    static func codeSecret(challenge: UUID, code: String) -> String {
        "\(challenge.uuidString.lowercased()):\(code)"
    }

    /// Sends the code; call after the challenge's transaction committed.
    func send(_ challenge: PhoneChallenge, tenant: TenantID, purpose: String) async throws {
        let what = purpose == "login" ? "sign-in" : "password reset"
        try await sms.send(tenant: tenant, phone: challenge.phone, message: "Kefu \(what) code: \(challenge.code). It expires in 5 minutes.")
    }

    /// Checks a code. Wrong codes count against the challenge (committed even though the caller fails).
    func checkChallenge(_ tx: TenantTransaction, id: UUID, code: String, purpose: String) async throws -> ChallengeOutcome {
        let rows = try await tx.query("""
            SELECT employee_id, code_hash, attempts, expires_at > now(), consumed_at IS NOT NULL
            FROM accounts.phone_challenges WHERE id = \(id) AND purpose = \(purpose) FOR UPDATE
            """)
        for try await (employee, hash, attempts, live, consumed) in rows.decode((UUID, ByteBuffer, Int, Bool, Bool).self) {
            guard live, !consumed, attempts < settings.phoneCodeAttempts else {
                return .failed(Problem(.unauthorized, code: "code_expired", detail: "This code has expired or was used; start again."))
            }
            guard Secrets.matches(hash, Self.codeSecret(challenge: id, code: code)) else {
                try await tx.query("UPDATE accounts.phone_challenges SET attempts = attempts + 1 WHERE id = \(id)")
                return .failed(Problem(.unauthorized, code: "invalid_code", detail: "The code is wrong."))
            }
            try await tx.query("UPDATE accounts.phone_challenges SET consumed_at = now() WHERE id = \(id)")
            return .passed(employee: employee)
        }
        return .failed(Problem(.unauthorized, code: "code_expired", detail: "This code has expired or was used; start again."))
    }
}

/// `138****5678`: enough for the person to recognise their phone.
func maskedPhone(_ phone: String) -> String {
    guard phone.count > 7 else { return String(repeating: "*", count: phone.count) }
    return String(phone.prefix(3)) + String(repeating: "*", count: phone.count - 7) + String(phone.suffix(4))
}
