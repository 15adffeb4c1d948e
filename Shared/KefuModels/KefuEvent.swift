/// An event other services may care about. Written to the outbox in the same transaction as the
/// change it describes, and delivered at least once to every consumer: handlers must be idempotent.
public protocol KefuEvent: Codable, Sendable {
    /// Stable dotted name, e.g. `employee.business_transferred`. Consumers filter on it.
    static var eventType: String { get }
}
