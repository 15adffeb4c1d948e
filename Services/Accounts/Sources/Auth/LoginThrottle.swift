import Foundation
import HTTPTypes
import KefuCore

/// Counts failed sign-ins per account name — whether or not the account exists, so that the
/// lockout itself reveals nothing — and locks the name for a while past the threshold.
extension TenantTransaction {
    /// When the name is locked, until when.
    func lockedUntil(account: String) async throws -> Date? {
        let rows = try await query("""
            SELECT locked_until FROM accounts.login_failures
            WHERE account_key = lower(\(account)) AND locked_until > now()
            """)
        for try await until in rows.decode(Date.self) { return until }
        return nil
    }

    /// Counts one failure; returns the lock end when this failure crossed the threshold.
    func recordLoginFailure(account: String, settings: AccountsSettings) async throws -> Date? {
        let rows = try await query("""
            INSERT INTO accounts.login_failures AS f (tenant_id, account_key, failures, window_started_at)
            VALUES (\(tenantID.uuid), lower(\(account)), 1, now())
            ON CONFLICT (tenant_id, account_key) DO UPDATE SET
                failures = CASE WHEN f.window_started_at < now() - make_interval(secs => \(settings.lockoutWindow))
                                THEN 1 ELSE f.failures + 1 END,
                window_started_at = CASE WHEN f.window_started_at < now() - make_interval(secs => \(settings.lockoutWindow))
                                THEN now() ELSE f.window_started_at END
            RETURNING failures
            """)
        var failures = 0
        for try await count in rows.decode(Int.self) { failures = count }
        guard failures >= settings.lockoutThreshold else { return nil }
        let lock = try await query("""
            UPDATE accounts.login_failures SET locked_until = now() + make_interval(secs => \(settings.lockoutDuration)),
                failures = 0, window_started_at = now()
            WHERE account_key = lower(\(account)) RETURNING locked_until
            """)
        for try await until in lock.decode(Date.self) { return until }
        return nil
    }

    func clearLoginFailures(account: String) async throws {
        try await query("DELETE FROM accounts.login_failures WHERE account_key = lower(\(account))")
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
            detail: "Too many failed sign-ins. Try again in \(seconds) seconds.",
            headers: [.retryAfter: String(seconds)]
        )
    }
}
