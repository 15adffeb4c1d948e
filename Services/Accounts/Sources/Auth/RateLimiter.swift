import Crypto
import Foundation
import HTTPTypes
import KefuCore

/// Limits the anonymous auth routes (sign-in, second factor, forgot and reset) per client address
/// and per account. Counted in Postgres (`accounts.rate_limits`), not in memory, because several
/// replicas of accounts may serve one tenant: every replica counts into the same row. Fixed
/// windows; every request counts, refused ones too, and a window is not extended by them.
struct RateLimit: Sendable {
    let key: String
    let limit: Int
    let window: TimeInterval

    /// The row it counts in: a digest, so the global table holds neither tenant data nor what
    /// anonymous callers sent.
    var bucket: String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

extension Accounts {
    /// Counts this request of `route` against the caller's address and against `account` (what the
    /// request names: `tenant/account`, or the challenge it answers); 429 `rate_limited` past either.
    func limitRequests(
        _ route: String, context: KefuRequestContext, account: String,
        perAccount: Int? = nil, accountWindow: TimeInterval? = nil
    ) async throws {
        try await admit([
            RateLimit(key: "\(route) address \(context.remoteAddress ?? "unknown")",
                      limit: settings.rateLimitPerAddress, window: settings.rateLimitWindow),
            RateLimit(key: "\(route) account \(account.lowercased())",
                      limit: perAccount ?? settings.rateLimitPerAccount, window: accountWindow ?? settings.rateLimitWindow),
        ])
    }

    /// One statement for all the limits: each row is locked while it is counted, so concurrent
    /// requests (on any replica) are counted one after the other and no more than the limit pass.
    /// Rows are taken in bucket order, so two requests never wait for each other crosswise.
    func admit(_ limits: [RateLimit]) async throws {
        let byBucket = Dictionary(limits.map { ($0.bucket, $0) }) { first, _ in first }
        let buckets = byBucket.keys.sorted()
        let rows = try await database.rows("""
            INSERT INTO accounts.rate_limits AS r (bucket, hits, window_ends_at)
            SELECT b, 1, now() + make_interval(secs => w)
            FROM unnest(\(buckets)::text[], \(buckets.map { byBucket[$0]!.window })::float8[]) AS l(b, w) ORDER BY b
            ON CONFLICT (bucket) DO UPDATE SET
                hits = CASE WHEN r.window_ends_at <= now() THEN 1 ELSE r.hits + 1 END,
                window_ends_at = CASE WHEN r.window_ends_at <= now() THEN excluded.window_ends_at ELSE r.window_ends_at END
            RETURNING bucket, hits, ceil(extract(epoch FROM r.window_ends_at - now()))::integer
            """)
        var retryAfter: Int?
        for row in rows {
            let (bucket, hits, seconds) = try row.decode((String, Int, Int).self)
            if let limit = byBucket[bucket], hits > limit.limit { retryAfter = max(retryAfter ?? 1, seconds) }
        }
        // Windows that ended are only dead rows: swept now and then rather than on every request.
        if Int.random(in: 0..<200) == 0 {
            _ = try await database.rows("DELETE FROM accounts.rate_limits WHERE window_ends_at < now()")
        }
        if let retryAfter { throw Problem.rateLimited(retryAfter: retryAfter) }
    }
}

extension Problem {
    static func rateLimited(retryAfter seconds: Int) -> Problem {
        Problem(
            .tooManyRequests, code: "rate_limited",
            detail: "Too many requests. Try again in \(seconds) seconds.",
            headers: [.retryAfter: String(max(1, seconds))]
        )
    }
}
