import Foundation
import KefuCore

/// The anonymous auth routes (sign-in, second factor, forgot and reset) are limited per client
/// address and per account (`accounts.rate_limits`, through KefuCore's `RateLimiter`).
extension Accounts {
    /// Counts this request of `route` against the caller's address and against `account` (what the
    /// request names: `tenant/account`, or the challenge it answers); 429 `rate_limited` past either.
    func limitRequests(
        _ route: String, context: KefuRequestContext, account: String,
        perAccount: Int? = nil, accountWindow: TimeInterval? = nil
    ) async throws {
        try await rateLimiter.admit([
            RateLimit(key: "\(route) address \(context.remoteAddress ?? "unknown")",
                      limit: settings.rateLimitPerAddress, window: settings.rateLimitWindow),
            RateLimit(key: "\(route) account \(account.lowercased())",
                      limit: perAccount ?? settings.rateLimitPerAccount, window: accountWindow ?? settings.rateLimitWindow),
        ])
    }
}
