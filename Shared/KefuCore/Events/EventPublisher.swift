import Foundation
import KefuModels

extension TenantTransaction {
    /// Writes `event` to the outbox in this transaction: it exists for consumers exactly when the
    /// change it describes commits. A statement trigger on `kefu.events` sends the NOTIFY wake-up.
    @discardableResult
    public func publish<E: KefuEvent>(_ event: E) async throws -> Int64 {
        let payload = String(decoding: try KefuJSON.encoder().encode(event), as: UTF8.self)
        let rows = try await query("""
            INSERT INTO kefu.events (tenant_id, type, payload)
            VALUES (\(tenantID.uuid), \(E.eventType), \(payload)::jsonb)
            RETURNING id
            """)
        for try await id in rows.decode(Int64.self) { return id }
        preconditionFailure("INSERT … RETURNING returned no row")
    }
}
