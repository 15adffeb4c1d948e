import Foundation
import KefuCore

/// How webhooks are delivered (`KEFU_WEBHOOK_*`; README lists them). Tests shorten the schedule
/// and the timeout; nothing else differs from production.
public struct WebhookDeliverySettings: Sendable {
    /// Delay before each attempt, from the first (Svix's: at once, 5 s, 5 min, 30 min, 2 h, 5 h,
    /// 10 h, 10 h); after the last one fails the delivery has failed.
    public var retrySchedule: [TimeInterval]
    /// An attempt with no complete answer within this long failed.
    public var timeout: TimeInterval
    /// An endpoint whose every attempt failed for this long is disabled.
    public var disableAfter: TimeInterval
    /// Endpoints on private, loopback and link-local addresses (a developer's own receiver).
    public var allowPrivateAddresses: Bool
    /// Whether this replica sends deliveries (`KEFU_WEBHOOK_DELIVERY=0`: an API-only replica;
    /// deliveries are still created and wait for a replica that sends).
    public var deliver: Bool
    /// How often an idle dispatcher looks for due deliveries.
    public var pollInterval: Duration
    /// Attempts in flight at once per endpoint, so a slow endpoint holds at most these.
    public var concurrencyPerEndpoint: Int
    /// A `Retry-After` asking for longer than this is cut to it.
    public var maximumRetryAfter: TimeInterval = 24 * 3600
    /// How much of an answer the log keeps.
    public let responseExcerptBytes = 1024

    public static let svixSchedule: [TimeInterval] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]

    public init(environment: [String: String]) {
        func number(_ name: String, _ fallback: Double) -> Double {
            environment[name].flatMap(Double.init) ?? fallback
        }
        let schedule = environment["KEFU_WEBHOOK_RETRY_SCHEDULE"].map {
            $0.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 >= 0 }
        } ?? []
        retrySchedule = schedule.isEmpty ? Self.svixSchedule : schedule
        timeout = max(number("KEFU_WEBHOOK_TIMEOUT_SECONDS", 15), 0.1)
        disableAfter = number("KEFU_WEBHOOK_DISABLE_AFTER_SECONDS", 5 * 24 * 3600)
        allowPrivateAddresses = environment["KEFU_WEBHOOK_ALLOW_PRIVATE"] == "1"
        deliver = environment["KEFU_WEBHOOK_DELIVERY"] != "0"
        pollInterval = .milliseconds(max(Int(number("KEFU_WEBHOOK_POLL_MS", 200)), 10))
        concurrencyPerEndpoint = max(Int(number("KEFU_WEBHOOK_CONCURRENCY_PER_ENDPOINT", 4)), 1)
    }

    /// The delay before the attempt at `index` of the schedule, or nil past its end.
    func delay(before index: Int) -> TimeInterval? {
        retrySchedule.indices.contains(index) ? retrySchedule[index] : nil
    }

    /// Longer than any attempt can take, so a lease outlives the attempt it covers.
    var lease: TimeInterval { timeout + 30 }
}
