import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Reads and writes of `reception.config_items`: the one place its SQL lives.
extension TenantTransaction {
    func items<D: Codable & Sendable>(
        _ kind: ConfigKind, as: D.Type, id: UUID? = nil, owner: UUID? = nil
    ) async throws -> [ConfigItem<D>] {
        let rows = try await query("""
            SELECT id, body::text, created_at, updated_at FROM reception.config_items
            WHERE kind = \(kind.rawValue) AND (\(id)::uuid IS NULL OR id = \(id))
              AND (\(owner)::uuid IS NULL OR owner_id = \(owner))
            ORDER BY position, created_at, id
            """)
        let decoder = KefuJSON.decoder()
        var items: [ConfigItem<D>] = []
        for try await (id, body, createdAt, updatedAt) in rows.decode((UUID, String, Date, Date).self) {
            items.append(ConfigItem(id: id, document: try decoder.decode(D.self, from: Data(body.utf8)), createdAt: createdAt, updatedAt: updatedAt))
        }
        return items
    }

    func item<D: Codable & Sendable>(_ kind: ConfigKind, as type: D.Type, id: UUID, owner: UUID? = nil) async throws -> ConfigItem<D>? {
        try await items(kind, as: type, id: id, owner: owner).first
    }

    /// The stored row fields besides the document.
    struct ItemColumns: Sendable {
        var name: String?
        var subtype: String?
        var owner: UUID?
        var sealedCredentials: String?
    }

    /// Inserts at the end of the kind's order; a taken name is a 409, over the kind's limit a 409.
    func insertItem<D: Codable & Sendable>(_ kind: ConfigKind, id: UUID, document: D, columns: ItemColumns) async throws {
        try await lockKind(kind)
        let rows = try await query("""
            SELECT count(*)::int, coalesce(max(position), 0)::int FROM reception.config_items
            WHERE kind = \(kind.rawValue) AND (\(columns.owner)::uuid IS NULL OR owner_id = \(columns.owner))
            """)
        var (count, lastPosition) = (0, 0)
        for try await row in rows.decode((Int, Int).self) { (count, lastPosition) = row }
        guard count < kind.limit else {
            throw Problem.conflict(code: "limit_reached", detail: "A tenant may have at most \(kind.limit) of these (\(kind.rawValue)).")
        }
        let body = try Self.json(document)
        try await rejectingDuplicates(as: Self.nameTaken(kind)) {
            try await query("""
                INSERT INTO reception.config_items (tenant_id, kind, id, name, position, owner_id, subtype, body, sealed_credentials)
                VALUES (\(tenantID.uuid), \(kind.rawValue), \(id), \(columns.name), \(lastPosition + 1), \(columns.owner),
                        \(columns.subtype), \(body)::jsonb, \(columns.sealedCredentials))
                """)
        }
    }

    /// One writer per tenant and kind at a time until commit, so count limits hold under
    /// concurrent creates (advisory locks are re-entrant within the transaction).
    func lockKind(_ kind: ConfigKind) async throws {
        try await query("SELECT pg_advisory_xact_lock(hashtext(\(tenantID.description + ":" + kind.rawValue)))")
    }

    func updateItem<D: Codable & Sendable>(_ kind: ConfigKind, id: UUID, document: D, columns: ItemColumns) async throws {
        let body = try Self.json(document)
        try await rejectingDuplicates(as: Self.nameTaken(kind)) {
            try await query("""
                UPDATE reception.config_items SET name = \(columns.name), subtype = \(columns.subtype), body = \(body)::jsonb,
                    sealed_credentials = coalesce(\(columns.sealedCredentials), sealed_credentials), updated_at = now()
                WHERE kind = \(kind.rawValue) AND id = \(id)
                """)
        }
    }

    func deleteItem(_ kind: ConfigKind, id: UUID) async throws {
        try await query("DELETE FROM reception.config_items WHERE kind = \(kind.rawValue) AND id = \(id)")
    }

    func sealedCredentials(of id: UUID) async throws -> String? {
        let rows = try await query("SELECT sealed_credentials FROM reception.config_items WHERE kind = 'channel' AND id = \(id)")
        for try await sealed in rows.decode(String?.self) { return sealed }
        return nil
    }

    /// How many items of `kind` have `subtype` (official accounts among channels).
    func count(_ kind: ConfigKind, subtype: String) async throws -> Int {
        let rows = try await query("SELECT count(*)::int FROM reception.config_items WHERE kind = \(kind.rawValue) AND subtype = \(subtype)")
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// Puts the kind's items in the order of `ids`, which must list each of them exactly once.
    func reorder(_ kind: ConfigKind, ids: [UUID]) async throws {
        try await query("""
            UPDATE reception.config_items c SET position = o.position, updated_at = now()
            FROM unnest(\(ids)::uuid[]) WITH ORDINALITY AS o(id, position)
            WHERE c.kind = \(kind.rawValue) AND c.id = o.id
            """)
    }

    func itemIDs(_ kind: ConfigKind) async throws -> [UUID] {
        let rows = try await query("SELECT id FROM reception.config_items WHERE kind = \(kind.rawValue) ORDER BY position, created_at, id")
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }

    /// What mentions `id` (a group in a widget, rule or the default target, a material in a
    /// reply), as `kind id` or a settings key: ids are UUIDs, so a textual match is an exact one.
    /// Items one employee owns (personal quick replies) never count: nobody else can change them,
    /// so any employee could otherwise block an admin's delete by writing an id into one. They
    /// hold text only; an id written there stays as written.
    func referencesTo(_ id: UUID) async throws -> [String] {
        let text = id.uuidString.lowercased()
        let rows = try await query("""
            SELECT kind || ' ' || id::text FROM reception.config_items
            WHERE id <> \(id) AND owner_id IS NULL AND strpos(body::text, \(text)) > 0
            UNION ALL
            SELECT replace(key, ':', ' ') FROM reception.settings WHERE strpos(body::text, \(text)) > 0
            ORDER BY 1
            """)
        var found: [String] = []
        for try await reference in rows.decode(String.self) { found.append(reference) }
        return found
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try KefuJSON.encoder().encode(value), as: UTF8.self)
    }

    static func nameTaken(_ kind: ConfigKind) -> Problem {
        .conflict(code: "name_taken", detail: "Another \(kind.rawValue.replacingOccurrences(of: "_", with: " ")) already has this name.")
    }
}
