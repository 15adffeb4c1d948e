import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import PostgresNIO
import Testing

struct Noted: KefuEvent {
    static let eventType = "test.noted"
    var note: String
}

/// The row-level-security wall: checked on the catalogue (every table, present and future) and
/// by behaviour.
@Suite struct TenantIsolationTests {
    /// Global tables, which hold no tenant data. Anything added here needs a reason.
    static let globalTables: [String: String] = [
        "kefu.schema_migrations": "which migration files were applied: the database's own state",
        "kefu.event_cursors": "one delivery position per consumer, across all tenants",
        "reception.widget_keys": "anonymous visitors look a widget up by its public key before a tenant is known",
        "accounts.rate_limits": "request counts per client address before a tenant is known; keys are digests, no tenant data",
    ]
    static let schemas = ["kefu"] + ServiceName.allCases.map(\.schema)

    @Test func everyTenantTableLeadsItsKeyWithTenantIDAndForcesRowLevelSecurity() async throws {
        try await TestEnvironment.migrateAll()
        let tables = try await TestEnvironment.ownerQuery("""
            SELECT format('%s.%s', n.nspname, c.relname)
                || '|' || c.relrowsecurity::text || '|' || c.relforcerowsecurity::text
                || '|' || coalesce((SELECT a.attname FROM pg_index i JOIN pg_attribute a
                                    ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                    WHERE i.indrelid = c.oid AND i.indisprimary), '')
                || '|' || coalesce((SELECT string_agg(pg_get_expr(p.polqual, p.polrelid), ' ') FROM pg_policy p
                                    WHERE p.polrelid = c.oid), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(\(Self.schemas))
            ORDER BY 1
            """, as: String.self)
        #expect(tables.contains { $0.hasPrefix("kefu.events|") }, "the catalogue query sees the outbox")
        for row in tables {
            let fields = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let (table, rls, forced, firstKeyColumn, policy) = (fields[0], fields[1], fields[2], fields[3], fields[4])
            if Self.globalTables[table] != nil { continue }
            #expect(rls == "true", "\(table) must ENABLE ROW LEVEL SECURITY")
            #expect(forced == "true", "\(table) must FORCE ROW LEVEL SECURITY")
            #expect(firstKeyColumn == "tenant_id", "\(table)'s primary key must start with tenant_id")
            #expect(policy.contains("current_tenant()"), "\(table) needs a policy on kefu.current_tenant()")
        }
    }

    @Test func theServingRoleOwnsNothingAndCannotBypassSecurity() async throws {
        try await TestEnvironment.migrateAll()
        let owned = try await TestEnvironment.ownerQuery("""
            SELECT count(*)::int FROM (
                SELECT relowner AS owner FROM pg_class UNION ALL SELECT nspowner FROM pg_namespace
                UNION ALL SELECT proowner FROM pg_proc UNION ALL SELECT typowner FROM pg_type
            ) o JOIN pg_roles r ON r.oid = o.owner WHERE r.rolname IN ('kefu_app', 'kefu_service')
            """, as: Int.self)
        #expect(owned == [0])
        let attributes = try await TestEnvironment.ownerQuery(
            "SELECT rolname || ':' || rolsuper::text || ':' || rolbypassrls::text FROM pg_roles WHERE rolname IN ('kefu_app', 'kefu_service') ORDER BY 1",
            as: String.self
        )
        #expect(attributes == ["kefu_app:false:false", "kefu_service:false:false"])
        let servingUser = try DatabaseURL(TestEnvironment.databaseURL).username
        #expect(servingUser == "kefu_app")
    }

    @Test func aTransactionSeesAndWritesOnlyItsOwnTenant() async throws {
        try await TestEnvironment.withDatabase { database in
            let (alice, bob) = (TenantID(), TenantID())
            let aliceEvent = try await database.withTenant(alice) { try await $0.publish(Noted(note: "alice")) }
            // Bob cannot read Alice's row even by its id …
            let seenByBob = try await database.withTenant(bob) { tx in
                try await tx.query("SELECT count(*)::int FROM kefu.events WHERE id = \(aliceEvent)").decode(Int.self).reduce(0, +)
            }
            #expect(seenByBob == 0)
            let seenByAlice = try await database.withTenant(alice) { tx in
                try await tx.query("SELECT count(*)::int FROM kefu.events WHERE id = \(aliceEvent)").decode(Int.self).reduce(0, +)
            }
            #expect(seenByAlice == 1)
            // … nor write a row claiming to be Alice's.
            await #expect(throws: PSQLError.self) {
                try await database.withTenant(bob) { tx in
                    try await tx.query("INSERT INTO kefu.events (tenant_id, type, payload) VALUES (\(alice.uuid), 'test.forged', '{}')")
                }
            }
            // Without a tenant nothing is visible at all, and the setting never outlives a transaction.
            let seenWithoutTenant = try await database.withTransaction { connection in
                try await connection.query("SELECT count(*)::int FROM kefu.events", logger: TestEnvironment.logger)
                    .decode(Int.self).reduce(0, +)
            }
            #expect(seenWithoutTenant == 0)
        }
    }
}
