import Foundation
import KefuCore
import KefuModels
import PostgresNIO

extension TenantTransaction {
    /// Bumps the tenant's configuration version and publishes `reception.config_changed`, in the
    /// transaction of the write itself: every write calls this, so a snapshot's version names
    /// exactly one state of the configuration. Writes through the API name their `actor`, and
    /// the change goes to the tenant's audit log (`audit.recorded`) with its before and after.
    @discardableResult
    func configChanged(
        _ kind: String, id: UUID? = nil, action: String, by actor: AuditActor? = nil,
        before: (some Encodable & Sendable)? = nil as String?, after: (some Encodable & Sendable)? = nil as String?
    ) async throws -> Int64 {
        let rows = try await query("""
            INSERT INTO reception.versions (tenant_id, version) VALUES (\(tenantID.uuid), 1)
            ON CONFLICT (tenant_id) DO UPDATE SET version = reception.versions.version + 1
            RETURNING version
            """)
        var version: Int64 = 0
        for try await value in rows.decode(Int64.self) { version = value }
        try await publish(ReceptionConfigChanged(kind: kind, id: id, action: action, version: version))
        if let actor {
            try await publishAudit(
                actor, action: "reception.\(kind).\(action)", targetType: kind, targetID: id?.uuidString.lowercased(),
                before: before, after: after
            )
        }
        return version
    }

    /// Prepared: every snapshot request runs it, and most are then answered from the cache.
    func configVersion() async throws -> Int64 {
        for try await version in try await connection.execute(ConfigVersionStatement(), logger: logger) { return version }
        return 0
    }
}

struct ConfigVersionStatement: PostgresPreparedStatement {
    static let name = "reception_config_version"
    static let sql = "SELECT version FROM reception.versions"
    typealias Row = Int64
    func makeBindings() throws -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
}
