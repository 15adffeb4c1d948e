import Foundation
import KefuModels

/// An event as read back from the outbox by a consumer.
public struct StoredEvent: Sendable {
    /// Position in delivery order: the publishing transaction's id, then the row id.
    public let position: EventPosition
    public let tenantID: TenantID
    public let type: String
    /// The JSON payload exactly as published.
    public let payload: String
    public let createdAt: Date

    public var id: Int64 { position.id }

    /// Also for events a service reads back itself within its tenant (a webhook replay).
    public init(position: EventPosition, tenantID: TenantID, type: String, payload: String, createdAt: Date) {
        self.position = position
        self.tenantID = tenantID
        self.type = type
        self.payload = payload
        self.createdAt = createdAt
    }

    /// Decodes the payload as `E`; the caller checks `type == E.eventType` first.
    public func decode<E: KefuEvent>(_: E.Type) throws -> E {
        try KefuJSON.decoder().decode(E.self, from: Data(payload.utf8))
    }
}

/// Where a consumer stands: events are delivered in (transaction id, row id) order, which never
/// changes once an event is visible to consumers (see `kefu.events_since`).
public struct EventPosition: Sendable, Comparable, Hashable, CustomStringConvertible {
    public var transactionID: UInt64
    public var id: Int64

    public static let start = EventPosition(transactionID: 0, id: 0)

    public init(transactionID: UInt64, id: Int64) {
        self.transactionID = transactionID
        self.id = id
    }

    public static func < (lhs: EventPosition, rhs: EventPosition) -> Bool {
        (lhs.transactionID, lhs.id) < (rhs.transactionID, rhs.id)
    }

    public var description: String { "\(transactionID)/\(id)" }
}
