import Foundation

/// A page position on a timestamp and an id. The time is in microseconds, as Postgres keeps it,
/// and compared in SQL as `(extract(epoch FROM t) * 1000000)::int8`: the API's times have
/// milliseconds, and a cursor rounded to them would repeat or skip rows of the same millisecond.
/// Shared by every keyset-paged list ordered by a time (routing's conversations, the customer library).
public struct TimeCursor: Codable, Sendable {
    public let at: Int64
    public let id: UUID

    public init(_ date: Date, _ id: UUID) {
        // A Date holds a Postgres timestamp to well under half a microsecond: rounding is exact.
        self.at = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        self.id = id
    }
}
