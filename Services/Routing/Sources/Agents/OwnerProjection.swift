import Foundation
import KefuCore
import KefuModels

/// Who owns the customer behind each web visitor (`customer.owner_changed`, from the customer
/// library): "owner first" assignment tries them before anyone else.
struct OwnerProjection {
    let database: Database

    static let eventTypes: Set<String> = [CustomerOwnerChanged.eventType]

    func handle(_ event: StoredEvent) async throws {
        let change = try event.decode(CustomerOwnerChanged.self)
        try await database.withTenant(event.tenantID) { tx in
            for visitor in change.visitorIds {
                try await tx.query("""
                    INSERT INTO routing.customer_owners (tenant_id, visitor_id, customer_id, owner_id)
                    VALUES (\(tx.tenantID.uuid), \(visitor.uuid), \(change.customerId), \(change.ownerId?.uuid))
                    ON CONFLICT (tenant_id, visitor_id) DO UPDATE SET customer_id = excluded.customer_id, owner_id = excluded.owner_id
                    """)
            }
        }
    }
}
