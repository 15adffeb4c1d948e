import Crypto
import Foundation
import HTTPTypes
import PostgresNIO

/// One limit: at most `limit` requests counted under `key` per `window` seconds.
public struct RateLimit: Sendable {
    public let key: String
    public let limit: Int
    public let window: TimeInterval

    public init(key: String, limit: Int, window: TimeInterval) {
        self.key = key
        self.limit = limit
        self.window = window
    }

    /// The row it counts in: a digest, so the global table holds neither tenant data nor what
    /// anonymous callers sent.
    var bucket: String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Limits anonymous routes (sign-in, visitors) per client address and the like. Counted in
/// Postgres, in the service's own `<schema>.rate_limits` table, not in memory: several replicas
/// may serve one tenant, and every replica counts into the same row. Fixed windows; every request
/// counts, refused ones too, and a window is not extended by them.
public struct RateLimiter: Sendable {
    let database: Database
    /// `<schema>.rate_limits` (bucket text primary key, hits integer, window_ends_at timestamptz).
    let table: String

    public init(database: Database, schema: String) {
        self.database = database
        self.table = "\(schema).rate_limits"
    }

    /// One statement for all the limits: each row is locked while it is counted, so concurrent
    /// requests (on any replica) are counted one after the other and no more than the limit pass.
    /// Rows are taken in bucket order, so two requests never wait for each other crosswise.
    /// 429 `rate_limited` with `Retry-After` past any of them.
    public func admit(_ limits: [RateLimit]) async throws {
        let byBucket = Dictionary(limits.map { ($0.bucket, $0) }) { first, _ in first }
        let buckets = byBucket.keys.sorted()
        var query: PostgresQuery = """
            SELECT b, 1, now() + make_interval(secs => w)
            FROM unnest(\(buckets)::text[], \(buckets.map { byBucket[$0]!.window })::float8[]) AS l(b, w) ORDER BY b
            """
        query.sql = "INSERT INTO \(table) AS r (bucket, hits, window_ends_at) " + query.sql + """

            ON CONFLICT (bucket) DO UPDATE SET
                hits = CASE WHEN r.window_ends_at <= now() THEN 1 ELSE r.hits + 1 END,
                window_ends_at = CASE WHEN r.window_ends_at <= now() THEN excluded.window_ends_at ELSE r.window_ends_at END
            RETURNING bucket, hits, ceil(extract(epoch FROM r.window_ends_at - now()))::integer
            """
        var retryAfter: Int?
        for row in try await database.rows(query) {
            let (bucket, hits, seconds) = try row.decode((String, Int, Int).self)
            if let limit = byBucket[bucket], hits > limit.limit { retryAfter = max(retryAfter ?? 1, seconds) }
        }
        // Windows that ended are only dead rows: swept now and then rather than on every request.
        if Int.random(in: 0..<200) == 0 {
            _ = try await database.rows(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE window_ends_at < now()"))
        }
        if let retryAfter { throw Problem.rateLimited(retryAfter: retryAfter) }
    }
}

extension Problem {
    public static func rateLimited(retryAfter seconds: Int) -> Problem {
        Problem(
            .tooManyRequests, code: "rate_limited",
            detail: "Too many requests. Try again in \(seconds) seconds.",
            headers: [.retryAfter: String(max(1, seconds))]
        )
    }
}
