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

/// A way past the tenant wall that is there on purpose: the roles that may use it, and why.
struct Door: Sendable {
    let roles: Set<String>
    let reason: String
}

/// The row-level-security wall: checked on the catalogue (every table, view and SECURITY DEFINER
/// function, present and future) and by behaviour.
@Suite struct TenantIsolationTests {
    /// Relations without the tenant policy (no forced row-level security, a policy that does not
    /// pin every row to `kefu.current_tenant()`, a view that runs as its owner), with every role
    /// other than the owner that holds a privilege on them. Anything added here needs a reason.
    static let globalTables: [String: Door] = [
        "kefu.schema_migrations": Door(roles: [], reason: "which migration files were applied: the database's own state, the owner's alone"),
        "kefu.event_cursors": Door(roles: ["kefu_events"], reason: "one delivery position per consumer, across all tenants: only the event reader moves them"),
        "reception.widget_keys": Door(
            roles: ["kefu_service"],
            reason: "anonymous visitors look a widget up by its public key before a tenant is known: read by anyone, written only for the transaction's tenant"
        ),
        "routing.rate_limits": Door(
            roles: ["kefu_service"],
            reason: "anonymous visitor starts per client address before a tenant is known; keys are digests, no tenant data"
        ),
        "accounts.rate_limits": Door(
            roles: ["kefu_service"],
            reason: "request counts per client address and account before a tenant is known; keys are digests, no tenant data"
        ),
        "analytics.rate_limits": Door(
            roles: ["kefu_service"],
            reason: "anonymous widget events per client address before a tenant is known; keys are digests, no tenant data"
        ),
    ]

    /// SECURITY DEFINER functions run as the owner, past row-level security: each is a door across
    /// tenants, with the roles that may call it. Anything added here needs a reason.
    static let definerFunctions: [String: Door] = [
        "kefu.events_since(xid8,bigint,integer)": Door(
            roles: ["kefu_events"], reason: "consumers deliver every tenant's events (kept for replicas of the previous release)"
        ),
        "kefu.events_since(xid8,bigint,integer,text[])": Door(
            roles: ["kefu_events"], reason: "consumers deliver every tenant's events of the types they handle"
        ),
        "kefu.events_position_since(timestamp with time zone)": Door(
            roles: ["kefu_events"], reason: "every-process consumers start from a point in time, across tenants"
        ),
        "accounts.tenant_by_slug(text)": Door(
            roles: ["kefu_service"],
            reason: "sign-in names its tenant by slug before any tenant is set; it answers one exact slug with the id and status only"
        ),
        "accounts.platform_tenants(text,integer)": Door(roles: ["kefu_platform"], reason: "the platform operator lists every tenant"),
        "accounts.due_webhook_deliveries(integer,integer)": Door(
            roles: ["kefu_events"],
            reason: "the webhook dispatcher finds due deliveries across tenants (tenant, delivery and endpoint ids only), then claims and sends each inside its tenant"
        ),
        "analytics.search_conversations(text,timestamp with time zone,integer,integer)": Door(
            roles: ["kefu_service"],
            reason: "message-text search through the pg_trgm index, which row-level security keeps from non-leakproof ILIKE; pinned to kefu.current_tenant(), conversation ids only"
        ),
        "customers.search_ids(text,text,integer)": Door(
            roles: ["kefu_service"],
            reason: "substring search through the pg_trgm indexes, which row-level security keeps from non-leakproof ILIKE; pinned to kefu.current_tenant(), ids only"
        ),
        "routing.due_timers(integer)": Door(
            roles: ["kefu_events"], reason: "routing's timer worker finds due timers across tenants (tenant and timer ids only), then applies each inside its tenant"
        ),
        "reception.official_account_tenant(uuid)": Door(
            roles: ["kefu_service"],
            reason: "WeChat's callback names only the official account's channel id: its tenant (and nothing else) is looked up before any tenant is known"
        ),
        "routing.stale_agent_sockets(integer,integer)": Door(
            roles: ["kefu_events"], reason: "a live routing replica finds agents whose sockets were on a dead one (tenant and employee ids only), then starts their grace period inside the tenant"
        ),
    ]
    static let schemas = ["kefu"] + ServiceName.allCases.map(\.schema)

    @Test func everyTenantTableLeadsItsKeyWithTenantIDAndForcesRowLevelSecurity() async throws {
        try await TestEnvironment.migrateAll()
        // A policy pins rows to the tenant when it applies to every command and both its
        // expressions are exactly `tenant_id = kefu.current_tenant()`.
        let relations = try await TestEnvironment.ownerQuery("""
            SELECT format('%s.%s', n.nspname, c.relname) || '|' || c.relkind::text
                || '|' || c.relrowsecurity::text || '|' || c.relforcerowsecurity::text
                || '|' || coalesce((SELECT a.attname FROM pg_index i JOIN pg_attribute a
                                    ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                    WHERE i.indrelid = c.oid AND i.indisprimary), '')
                || '|' || (EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid)
                           AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND NOT (
                               p.polcmd = '*' AND p.polpermissive
                               AND pg_get_expr(p.polqual, p.polrelid) = '(tenant_id = kefu.current_tenant())'
                               AND coalesce(pg_get_expr(p.polwithcheck, p.polrelid), pg_get_expr(p.polqual, p.polrelid))
                                   = '(tenant_id = kefu.current_tenant())')))::text
                || '|' || coalesce(array_to_string(c.reloptions, ','), '')
                || '|' || coalesce((SELECT string_agg(DISTINCT pg_get_userbyid(a.grantee), ',' ORDER BY pg_get_userbyid(a.grantee))
                                    FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
                                    WHERE a.grantee <> c.relowner), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY(\(Self.schemas))
            ORDER BY 1
            """, as: String.self)
        #expect(relations.contains { $0.hasPrefix("kefu.events|") }, "the catalogue query sees the outbox")
        var global: Set<String> = []
        for row in relations {
            let fields = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let (table, kind, rls, forced, firstKeyColumn, pinned, options) = (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6])
            let grantees = Set(fields[7].split(separator: ",").map(String.init))
            let isTenantTable = switch kind {
            case "r", "p": rls == "true" && forced == "true" && firstKeyColumn == "tenant_id" && pinned == "true"
            // A view reads as its caller only with security_invoker; otherwise as its owner, past the wall.
            case "v": options.contains("security_invoker=true") || options.contains("security_invoker=on")
            default: false
            }
            if isTenantTable { continue }
            global.insert(table)
            guard let door = Self.globalTables[table] else {
                Issue.record("""
                    \(table) is not a tenant table (ENABLE and FORCE ROW LEVEL SECURITY, primary key led by tenant_id, \
                    every policy FOR ALL USING and WITH CHECK (tenant_id = kefu.current_tenant()); a view WITH \
                    (security_invoker)); if it must be global, list it in globalTables with a reason
                    """)
                continue
            }
            #expect(!door.reason.isEmpty)
            #expect(grantees == door.roles, "\(table): privileges held by \(grantees.sorted()), the reason covers \(door.roles.sorted())")
        }
        #expect(global == Set(Self.globalTables.keys), "globalTables lists only tables that exist and are global")
    }

    @Test func everySecurityDefinerFunctionHasAReasonAndOnlyItsRoles() async throws {
        try await TestEnvironment.migrateAll()
        let functions = try await TestEnvironment.ownerQuery("""
            SELECT p.oid::regprocedure::text
                || '|' || coalesce((SELECT string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, ','
                                                      ORDER BY CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END)
                                    FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                    WHERE a.grantee <> p.proowner AND a.privilege_type = 'EXECUTE'), '')
                || '|' || coalesce(array_to_string(p.proconfig, ','), '')
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prosecdef AND n.nspname = ANY(\(Self.schemas))
            ORDER BY 1
            """, as: String.self)
        var found: Set<String> = []
        for row in functions {
            let fields = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let (function, grantees, settings) = (fields[0], Set(fields[1].split(separator: ",").map(String.init)), fields[2])
            found.insert(function)
            guard let door = Self.definerFunctions[function] else {
                Issue.record("\(function) is SECURITY DEFINER (it reads past row-level security): list it in definerFunctions with a reason and its roles")
                continue
            }
            #expect(!door.reason.isEmpty)
            #expect(grantees == door.roles, "\(function): callable by \(grantees.sorted()), the reason covers \(door.roles.sorted())")
            // Otherwise a caller's objects on its search_path would run with the owner's rights.
            #expect(settings.contains("search_path=pg_catalog, pg_temp"), "\(function) pins its search_path")
        }
        #expect(found == Set(Self.definerFunctions.keys), "definerFunctions lists only functions that exist")
    }

    @Test func theLoginRolesOwnNothingAndCannotBypassSecurity() async throws {
        try await TestEnvironment.migrateAll()
        let roles = ["kefu_app", "kefu_service", "kefu_events", "kefu_platform"]
        let owned = try await TestEnvironment.ownerQuery("""
            SELECT count(*)::int FROM (
                SELECT relowner AS owner FROM pg_class UNION ALL SELECT nspowner FROM pg_namespace
                UNION ALL SELECT proowner FROM pg_proc UNION ALL SELECT typowner FROM pg_type
            ) o JOIN pg_roles r ON r.oid = o.owner WHERE r.rolname = ANY(\(roles))
            """, as: Int.self)
        #expect(owned == [0])
        let attributes = try await TestEnvironment.ownerQuery(
            "SELECT rolname || ':' || rolsuper::text || ':' || rolbypassrls::text FROM pg_roles WHERE rolname = ANY(\(roles)) ORDER BY 1",
            as: String.self
        )
        #expect(attributes == ["kefu_app:false:false", "kefu_events:false:false", "kefu_platform:false:false", "kefu_service:false:false"])
        #expect(try DatabaseURL(TestEnvironment.databaseURL).username == "kefu_app")
        #expect(try DatabaseURL(TestEnvironment.eventsDatabaseURL).username == "kefu_events")
        #expect(try DatabaseURL(TestEnvironment.platformDatabaseURL).username == "kefu_platform")
    }

    /// Everything the event reader and the platform role hold, granted to them by name: their doors,
    /// the schemas those are in, and the right to connect. No role membership.
    @Test func theEventReaderAndThePlatformRoleHoldOnlyTheirDoors() async throws {
        try await TestEnvironment.migrateAll()
        let held = try await TestEnvironment.ownerQuery("""
            SELECT r.rolname || ' ' || x.what FROM pg_roles r CROSS JOIN LATERAL (
                SELECT a.privilege_type || ' ' || c.oid::regclass::text AS what FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = r.oid
                UNION ALL SELECT a.privilege_type || ' ' || p.oid::regprocedure::text FROM pg_proc p, aclexplode(p.proacl) a WHERE a.grantee = r.oid
                UNION ALL SELECT a.privilege_type || ' ' || s.nspname FROM pg_namespace s, aclexplode(s.nspacl) a WHERE a.grantee = r.oid
                UNION ALL SELECT a.privilege_type || ' ' || d.datname FROM pg_database d, aclexplode(d.datacl) a
                    WHERE a.grantee = r.oid AND d.datname = current_database()
                UNION ALL SELECT 'MEMBER OF ' || pg_get_userbyid(m.roleid) FROM pg_auth_members m WHERE m.member = r.oid
            ) x WHERE r.rolname IN ('kefu_events', 'kefu_platform') ORDER BY 1
            """, as: String.self)
        let database = try DatabaseURL(TestEnvironment.migrationDatabaseURL).database
        #expect(held == [
            "kefu_events CONNECT \(database)",
            "kefu_events EXECUTE accounts.due_webhook_deliveries(integer,integer)",
            "kefu_events EXECUTE kefu.events_position_since(timestamp with time zone)",
            "kefu_events EXECUTE kefu.events_since(xid8,bigint,integer)",
            "kefu_events EXECUTE kefu.events_since(xid8,bigint,integer,text[])",
            "kefu_events EXECUTE routing.due_timers(integer)",
            "kefu_events EXECUTE routing.stale_agent_sockets(integer,integer)",
            "kefu_events INSERT kefu.event_cursors",
            "kefu_events SELECT kefu.event_cursors",
            "kefu_events UPDATE kefu.event_cursors",
            "kefu_events USAGE accounts",
            "kefu_events USAGE kefu",
            "kefu_events USAGE routing",
            "kefu_platform CONNECT \(database)",
            "kefu_platform EXECUTE accounts.platform_tenants(text,integer)",
            "kefu_platform USAGE accounts",
        ])
    }

    /// The serving role's SQL error for `body`, if refused.
    func sqlState(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState]
        } catch {
            return "\(error)"
        }
    }

    static let insufficientPrivilege = "42501"

    @Test func theServingRoleCannotReadEveryTenantsEventsOrTenants() async throws {
        try await TestEnvironment.withDatabase { database in
            let tenant = TenantID()
            try await database.withTenant(tenant) { try await $0.publish(Noted(note: "someone's")) }
            let crossTenant: [PostgresQuery] = [
                "SELECT count(*) FROM kefu.events_since('0'::xid8, 0, 10)",
                "SELECT count(*) FROM kefu.events_position_since(now() - interval '1 hour')",
                "SELECT count(*) FROM accounts.platform_tenants(NULL, 10)",
                "SELECT count(*) FROM kefu.event_cursors",
                "INSERT INTO kefu.event_cursors (consumer, last_txid, last_id) VALUES ('forged', '0'::xid8, 0)",
            ]
            for query in crossTenant {
                let withoutTenant = await sqlState { _ = try await database.rows(query) }
                #expect(withoutTenant == Self.insufficientPrivilege, "without a tenant: \(query.sql)")
                let withTenant = await sqlState {
                    try await database.withTenant(tenant) { tx in _ = try await tx.query(query).collect() }
                }
                #expect(withTenant == Self.insufficientPrivilege, "with a tenant: \(query.sql)")
            }
        }
    }

    @Test func theEventReaderAndThePlatformRoleReadAcrossTenants() async throws {
        try await TestEnvironment.withDatabase { database in
            let (alice, bob) = (TenantID(), TenantID())
            try await database.withTenant(alice) { try await $0.publish(Noted(note: "alice")) }
            try await database.withTenant(bob) { try await $0.publish(Noted(note: "bob")) }
            try await TestEnvironment.withDatabase(url: TestEnvironment.eventsDatabaseURL) { reader in
                // Delivered once every older transaction has ended (other tests run meanwhile).
                var seen = 0
                for _ in 0..<100 where seen < 2 {
                    seen = try await reader.rows("""
                        SELECT count(DISTINCT e.tenant_id)::int
                        FROM kefu.events_position_since(now() - interval '1 minute') p,
                             kefu.events_since(p.txid, p.id, 100000) e
                        WHERE e.tenant_id IN (\(alice.uuid), \(bob.uuid))
                        """).first?.decode(Int.self) ?? 0
                    if seen < 2 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(seen == 2, "the event reader reads every tenant's events")
                // … and nothing else: no tenant table, not even with a tenant set.
                let tenantTable = await sqlState { _ = try await reader.rows("SELECT count(*) FROM accounts.tenants") }
                #expect(tenantTable == Self.insufficientPrivilege)
                let outbox = await sqlState { _ = try await reader.rows("SELECT count(*) FROM kefu.events") }
                #expect(outbox == Self.insufficientPrivilege)
            }
            try await TestEnvironment.withDatabase(url: TestEnvironment.platformDatabaseURL) { platform in
                _ = try await platform.rows("SELECT count(*) FROM accounts.platform_tenants(NULL, 10)")
                let events = await sqlState { _ = try await platform.rows("SELECT count(*) FROM kefu.events_since('0'::xid8, 0, 10)") }
                #expect(events == Self.insufficientPrivilege)
                let tenantTable = await sqlState { _ = try await platform.rows("SELECT count(*) FROM accounts.tenants") }
                #expect(tenantTable == Self.insufficientPrivilege)
            }
        }
    }

    /// Public widget keys are read without a tenant, but written and deleted only in their own.
    @Test func widgetKeysAreReadByAnyoneAndWrittenOnlyForTheTransactionsTenant() async throws {
        try await TestEnvironment.withDatabase { database in
            let (alice, bob) = (TenantID(), TenantID())
            let (aliceKey, bobKey, forgedKey) = ("wk_test_\(UUID())", "wk_test_\(UUID())", "wk_test_\(UUID())")
            let (aliceWidget, bobWidget) = (UUID(), UUID())
            try await database.withTenant(alice) { tx in
                try await tx.query("INSERT INTO reception.widget_keys (public_key, tenant_id, widget_id) VALUES (\(aliceKey), \(alice.uuid), \(aliceWidget))")
            }
            try await database.withTenant(bob) { tx in
                try await tx.query("INSERT INTO reception.widget_keys (public_key, tenant_id, widget_id) VALUES (\(bobKey), \(bob.uuid), \(bobWidget))")
            }
            // A key pointing at another tenant's widget is refused, with or without a tenant set.
            let forge: PostgresQuery = "INSERT INTO reception.widget_keys (public_key, tenant_id, widget_id) VALUES (\(forgedKey), \(bob.uuid), \(bobWidget))"
            #expect(await sqlState { _ = try await database.rows(forge) } == Self.insufficientPrivilege)
            #expect(await sqlState { try await database.withTenant(alice) { tx in _ = try await tx.query(forge).collect() } } == Self.insufficientPrivilege)
            // Deleting keys without a tenant, or another tenant's keys, affects nothing.
            _ = try await database.rows("DELETE FROM reception.widget_keys WHERE public_key IN (\(aliceKey), \(bobKey))")
            try await database.withTenant(alice) { tx in
                try await tx.query("DELETE FROM reception.widget_keys WHERE tenant_id = \(bob.uuid)")
            }
            let kept = try await TestEnvironment.ownerQuery(
                "SELECT public_key FROM reception.widget_keys WHERE public_key IN (\(aliceKey), \(bobKey), \(forgedKey)) ORDER BY public_key",
                as: String.self
            )
            #expect(Set(kept) == [aliceKey, bobKey])
            // Anyone reads a key, as an anonymous visitor does before any tenant is known.
            let read = try await database.rows("SELECT tenant_id FROM reception.widget_keys WHERE public_key = \(bobKey)")
            #expect(try read.map { try $0.decode(UUID.self) } == [bob.uuid])
            // A tenant deletes its own.
            try await database.withTenant(alice) { tx in try await tx.query("DELETE FROM reception.widget_keys WHERE public_key = \(aliceKey)") }
            #expect(try await TestEnvironment.ownerQuery("SELECT count(*)::int FROM reception.widget_keys WHERE public_key = \(aliceKey)", as: Int.self) == [0])
        }
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
