import Foundation
import KefuCore
import KefuModels
import Logging
import NIOCore

/// One-time six-digit codes sent by SMS: the second factor at sign-in and "forgot password".
/// A code expires after five minutes, works once, and allows a few attempts. An employee has at
/// most one live challenge per purpose; wrong codes are counted per employee and purpose across
/// challenges (`AttemptKey.code`), so asking for new codes buys no new guesses.
struct PhoneChallenge: Sendable {
    let id: UUID
    let phone: String
    /// The code to send; nil when the live challenge was sent less than `smsResendInterval` ago
    /// and is answered again instead (nothing to send).
    let code: String?
}

enum ChallengeOutcome: Sendable {
    case passed(employee: UUID)
    case failed(Problem)
}

extension Accounts {
    /// The employee's challenge for `purpose`: the live one if it was sent moments ago, else a new
    /// code (a resend) that replaces it and inherits its wrong attempts. Nil without a phone;
    /// throws `code_locked` while too many wrong codes lock the purpose. `id` names a new challenge.
    func createChallenge(_ tx: TenantTransaction, employee: EmployeeRecord, purpose: String, id: UUID = UUID()) async throws -> PhoneChallenge? {
        guard let phone = employee.phone else { return nil }
        if let until = try await tx.lockedUntil(key: AttemptKey.code(purpose: purpose, employee: employee.id)) {
            throw Problem.codeLocked(until: until)
        }
        // Concurrent requests for the same employee and purpose take turns here, so exactly one
        // of them makes (and sends) the new code.
        try await tx.query("""
            SELECT pg_advisory_xact_lock(hashtextextended(\("accounts.challenge:\(tx.tenantID):\(employee.id):\(purpose)"), 0))
            """)
        let live = try await tx.query("""
            SELECT id, attempts, created_at > now() - make_interval(secs => \(settings.smsResendInterval))
            FROM accounts.phone_challenges
            WHERE employee_id = \(employee.id) AND purpose = \(purpose) AND consumed_at IS NULL
              AND expires_at > now() AND attempts < \(settings.phoneCodeAttempts)
            ORDER BY created_at DESC LIMIT 1
            """).collect().first.map { try $0.decode((UUID, Int, Bool).self) }
        if let (liveID, _, recent) = live, recent {
            return PhoneChallenge(id: liveID, phone: phone, code: nil)
        }
        // A resend: the old code stops working (marked used), and its wrong attempts carry over.
        try await tx.query("""
            UPDATE accounts.phone_challenges SET consumed_at = now()
            WHERE employee_id = \(employee.id) AND purpose = \(purpose) AND consumed_at IS NULL
            """)
        let challenge = PhoneChallenge(id: id, phone: phone, code: Secrets.sixDigitCode())
        try await tx.query("""
            INSERT INTO accounts.phone_challenges (tenant_id, id, employee_id, purpose, code_hash, attempts, expires_at)
            VALUES (\(tx.tenantID.uuid), \(challenge.id), \(employee.id), \(purpose),
                    \(Secrets.digest(Self.codeSecret(challenge: challenge.id, code: challenge.code!))), \(live?.1 ?? 0),
                    now() + make_interval(secs => \(settings.phoneCodeLifetime)))
            """)
        return challenge
    }

    /// Bound to the challenge, so a code cannot be replayed against another one.
    static func codeSecret(challenge: UUID, code: String) -> String {
        "\(challenge.uuidString.lowercased()):\(code)"
    }

    /// Sends the code, if there is one to send; call after the challenge's transaction committed.
    func send(_ challenge: PhoneChallenge, tenant: TenantID, purpose: String) async throws {
        guard let code = challenge.code else { return }
        let what = purpose == "login" ? "sign-in" : "password reset"
        try await sms.send(tenant: tenant, phone: challenge.phone, message: "Kefu \(what) code: \(code). It expires in 5 minutes.")
    }

    /// Ends a challenge whose code could not be sent, so that asking again sends a new one at once.
    func withdraw(_ challenge: PhoneChallenge, tenant: TenantID) async throws {
        try await database.withTenant(tenant) { tx in
            try await tx.query("UPDATE accounts.phone_challenges SET consumed_at = now() WHERE id = \(challenge.id)")
        }
    }

    /// Runs `work` after the answer has gone, logging what fails (with the request's logger): the
    /// caller neither waits for it nor learns from its errors (nor, so, whether an account exists).
    /// Detached, so the request's task-locals (an idempotency claim) stay with the request.
    func afterAnswering(_ what: String, logger: Logger, _ work: @escaping @Sendable () async throws -> Void) {
        Task.detached {
            do {
                try await work()
            } catch {
                logger.warning("\(what) failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    /// Checks a code. Every attempt is claimed against the employee and purpose first (committed
    /// even though the caller fails); a right code clears the count and consumes the challenge.
    func checkChallenge(_ tx: TenantTransaction, id: UUID, code: String, purpose: String) async throws -> ChallengeOutcome {
        let expired = Problem(.unauthorized, code: "code_expired", detail: "This code has expired or was used; start again.")
        let usable = "consumed_at IS NULL AND expires_at > now() AND attempts < \(settings.phoneCodeAttempts)"
        // Whose it is, without locking it: locks are taken attempt key first, then challenge.
        let owner = try await tx.query("""
            SELECT employee_id FROM accounts.phone_challenges WHERE id = \(id) AND purpose = \(purpose) AND \(unescaped: usable)
            """).collect().first.map { try $0.decode(UUID.self) }
        guard let owner else { return .failed(expired) }
        let key = AttemptKey.code(purpose: purpose, employee: owner)
        if let until = try await tx.claimAttempt(key: key, settings: settings) { return .failed(.codeLocked(until: until)) }
        let hash = try await tx.query("""
            SELECT code_hash FROM accounts.phone_challenges WHERE id = \(id) AND \(unescaped: usable) FOR UPDATE
            """).collect().first.map { try $0.decode(ByteBuffer.self) }
        guard let hash else { return .failed(expired) }
        guard Secrets.matches(hash, Self.codeSecret(challenge: id, code: code)) else {
            try await tx.query("UPDATE accounts.phone_challenges SET attempts = attempts + 1 WHERE id = \(id)")
            return .failed(Problem(.unauthorized, code: "invalid_code", detail: "The code is wrong."))
        }
        try await tx.query("UPDATE accounts.phone_challenges SET consumed_at = now() WHERE id = \(id)")
        try await tx.clearAttempts(key: key)
        return .passed(employee: owner)
    }
}

/// `138****5678`: enough for the person to recognise their phone.
func maskedPhone(_ phone: String) -> String {
    guard phone.count > 7 else { return String(repeating: "*", count: phone.count) }
    return String(phone.prefix(3)) + String(repeating: "*", count: phone.count - 7) + String(phone.suffix(4))
}
