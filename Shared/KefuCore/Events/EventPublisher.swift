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

extension TenantTransaction {
    /// Writes many events to the outbox in one statement, in the order given (their ids follow
    /// it), as `publish` writes one: a batch of a thousand imported customers is one round trip
    /// instead of thousands.
    public func publish(_ events: [any KefuEvent]) async throws {
        guard !events.isEmpty else { return }
        try await IdempotencyClaim.current?.claim(in: self)
        let encoder = KefuJSON.encoder()
        var types: [String] = []
        var payloads: [String] = []
        types.reserveCapacity(events.count)
        payloads.reserveCapacity(events.count)
        for event in events {
            types.append(type(of: event).eventType)
            payloads.append(String(decoding: try encoder.encode(event), as: UTF8.self))
        }
        try await query("""
            INSERT INTO kefu.events (tenant_id, type, payload)
            SELECT \(tenantID.uuid), e.type, e.payload::jsonb FROM unnest(\(types)::text[], \(payloads)::text[]) WITH ORDINALITY AS e(type, payload, n)
            ORDER BY e.n
            """)
        for type in Set(types).sorted() { notices.notify(EventConsumer.channel, type) }
    }
}
