import Foundation
import KefuModels

extension TenantTransaction {
    /// Writes `event` to the outbox in this transaction: it exists for consumers exactly when the
    /// change it describes commits. Its wake-up (a NOTIFY naming the type) goes out after the
    /// commit (`CommitNotices`).
    @discardableResult
    public func publish<E: KefuEvent>(_ event: E) async throws -> Int64 {
        try await IdempotencyClaim.current?.claim(in: self)
        let payload = String(decoding: try KefuJSON.encoder().encode(event), as: UTF8.self)
        let rows = try await connection.execute(
            CoreStatements.InsertEvent(tenant: tenantID.uuid, type: E.eventType, payload: payload), logger: logger
        )
        notices.notify(EventConsumer.channel, E.eventType)
        for try await id in rows { return id }
        preconditionFailure("INSERT … RETURNING returned no row")
    }
}
