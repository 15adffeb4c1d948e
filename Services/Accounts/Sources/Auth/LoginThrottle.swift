import Foundation
import HTTPTypes
import KefuCore

/// Counts attempts at a secret per key and locks the key for a while past the threshold
/// (`accounts.login_failures`). Keys: an account name for passwords — whether or not the account
/// exists, so that the lockout itself reveals nothing — and `code <purpose> <employee>` for
/// one-time codes, across all of an employee's challenges of that purpose.
///
/// An attempt is *claimed* before its secret is checked, in one conditional upsert, and counts as
/// a failure until a success clears the key: reading the lock first and recording the failure
/// after the (slow) check would let any number of concurrent attempts through before the first
/// failure is recorded.
enum AttemptKey {
    static func password(account: String) -> String { account.lowercased() }
    static func code(purpose: String, employee: UUID) -> String { "code \(purpose) \(employee.uuidString.lowercased())" }
}

extension TenantTransaction {
    /// Claims one attempt at `key`: nil to go ahead, or the end of the lock. The claim that reaches
    /// the threshold locks the key, so at most `lockoutThreshold` attempts run per window; a lock
    /// that has run out starts a new count.
    func claimAttempt(key: String, settings: AccountsSettings) async throws -> Date? {
        let (window, duration, threshold) = (settings.lockoutWindow, settings.lockoutDuration, settings.lockoutThreshold)
        let claimed = try await query("""
            INSERT INTO accounts.login_failures AS f (tenant_id, account_key, failures, window_started_at, locked_until)
            VALUES (\(tenantID.uuid), \(key), 1, now(), CASE WHEN 1 >= \(threshold) THEN now() + make_interval(secs => \(duration)) END)
            ON CONFLICT (tenant_id, account_key) DO UPDATE SET
                failures = CASE WHEN f.locked_until IS NOT NULL OR f.window_started_at <= now() - make_interval(secs => \(window))
                                THEN 1 ELSE f.failures + 1 END,
                window_started_at = CASE WHEN f.locked_until IS NOT NULL OR f.window_started_at <= now() - make_interval(secs => \(window))
                                THEN now() ELSE f.window_started_at END,
                locked_until = CASE WHEN (CASE WHEN f.locked_until IS NOT NULL OR f.window_started_at <= now() - make_interval(secs => \(window))
                                               THEN 1 ELSE f.failures + 1 END) >= \(threshold)
                                THEN now() + make_interval(secs => \(duration)) END
            WHERE f.locked_until IS NULL OR f.locked_until <= now()
            RETURNING failures
            """).collect()
        if !claimed.isEmpty { return nil }
        // Refused: the key is locked (its lock may have run out an instant ago: Retry-After 1).
        for try await until in try await query("SELECT locked_until FROM accounts.login_failures WHERE account_key = \(key)").decode(Date?.self) {
            return until ?? Date()
        }
        return Date()
    }

    /// When `key` is locked, until when (without claiming an attempt).
    func lockedUntil(key: String) async throws -> Date? {
        let rows = try await query("""
            SELECT locked_until FROM accounts.login_failures WHERE account_key = \(key) AND locked_until > now()
            """)
        for try await until in rows.decode(Date.self) { return until }
        return nil
    }

    /// After a success: the count starts again.
    func clearAttempts(key: String) async throws {
        try await query("DELETE FROM accounts.login_failures WHERE account_key = \(key)")
    }
}

extension Problem {
    static let invalidCredentials = Problem(
        .unauthorized, code: "invalid_credentials", detail: "The tenant, account or password is wrong."
    )

    static func locked(until: Date) -> Problem {
        let seconds = max(1, Int(until.timeIntervalSinceNow.rounded(.up)))
        return Problem(
            .tooManyRequests, code: "account_locked",
            detail: "Too many wrong passwords for this account. Try again in \(seconds) seconds.",
            headers: [.retryAfter: String(seconds)]
        )
    }

    static func codeLocked(until: Date) -> Problem {
        let seconds = max(1, Int(until.timeIntervalSinceNow.rounded(.up)))
        return Problem(
            .tooManyRequests, code: "code_locked",
            detail: "Too many wrong codes. Try again in \(seconds) seconds.",
            headers: [.retryAfter: String(seconds)]
        )
    }
}
