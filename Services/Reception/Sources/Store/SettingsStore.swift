import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Reads and writes of `reception.settings`: tenant-wide documents by key.
extension TenantTransaction {
    func setting<D: Decodable>(_ key: String, as: D.Type) async throws -> (D, Date)? {
        let rows = try await query("SELECT body::text, updated_at FROM reception.settings WHERE key = \(key)")
        for try await (body, updatedAt) in rows.decode((String, Date).self) {
            return (try KefuJSON.decoder().decode(D.self, from: Data(body.utf8)), updatedAt)
        }
        return nil
    }

    func saveSetting(_ key: String, _ document: some Encodable) async throws {
        try await query("""
            INSERT INTO reception.settings (tenant_id, key, body) VALUES (\(tenantID.uuid), \(key), \(try Self.json(document))::jsonb)
            ON CONFLICT (tenant_id, key) DO UPDATE SET body = excluded.body, updated_at = now()
            """)
    }

    func deleteSetting(_ key: String) async throws {
        try await query("DELETE FROM reception.settings WHERE key = \(key)")
    }

    /// Every setting whose key starts with `prefix`, with the rest of its key.
    func settings<D: Decodable>(prefixed prefix: String, as: D.Type) async throws -> [(String, D)] {
        let rows = try await query("SELECT key, body::text FROM reception.settings WHERE starts_with(key, \(prefix)) ORDER BY key")
        var found: [(String, D)] = []
        for try await (key, body) in rows.decode((String, String).self) {
            found.append((String(key.dropFirst(prefix.count)), try KefuJSON.decoder().decode(D.self, from: Data(body.utf8))))
        }
        return found
    }
}
