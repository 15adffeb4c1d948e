import Foundation
import KefuCore
import KefuModels
import PostgresNIO

extension TenantTransaction {
    /// Bumps the tenant's configuration version and publishes `reception.config_changed`, in the
    /// transaction of the write itself: every write calls this, so a snapshot's version names
    /// exactly one state of the configuration.
    @discardableResult
    func configChanged(_ kind: String, id: UUID? = nil, action: String) async throws -> Int64 {
        let rows = try await query("""
            INSERT INTO reception.versions (tenant_id, version) VALUES (\(tenantID.uuid), 1)
            ON CONFLICT (tenant_id) DO UPDATE SET version = reception.versions.version + 1
            RETURNING version
            """)
        var version: Int64 = 0
        for try await value in rows.decode(Int64.self) { version = value }
        try await publish(ReceptionConfigChanged(kind: kind, id: id, action: action, version: version))
        return version
    }

    func configVersion() async throws -> Int64 {
        let rows = try await query("SELECT version FROM reception.versions")
        for try await version in rows.decode(Int64.self) { return version }
        return 0
    }
}
