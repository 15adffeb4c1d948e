import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Synchronization
import Testing

/// How many times a cache asked its loader.
final class Loads: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func load(_ answer: String?) -> String? {
        count.add(1, ordering: .relaxed)
        return answer
    }
}

@Suite struct TenantCacheTests {
    @Test func answersFromMemoryUntilItsTenantChanges() async throws {
        let changes = TenantChanges()
        let cache = TenantCache<String, String>(changes: changes, capacity: 10, lifetime: .seconds(60))
        let (tenant, other) = (TenantID(), TenantID())
        let loads = Loads()
        #expect(try await cache.value(tenant, "a") { loads.load("one") } == "one")
        #expect(try await cache.value(tenant, "a") { loads.load("two") } == "one")
        #expect(loads.value == 1)

        changes.changed(other)
        #expect(try await cache.value(tenant, "a") { loads.load("two") } == "one", "another tenant's change keeps it")
        changes.changed(tenant)
        #expect(try await cache.value(tenant, "a") { loads.load("two") } == "two")
        #expect(try await cache.value(other, "a") { loads.load("other") } == "other", "keys are per tenant")
        #expect(loads.value == 3)
    }

    @Test func aChangeDuringTheLoadLeavesTheEntryStale() async throws {
        let changes = TenantChanges()
        let cache = TenantCache<String, String>(changes: changes, capacity: 10, lifetime: .seconds(60))
        let tenant = TenantID()
        let loads = Loads()
        _ = try await cache.value(tenant, "a") {
            changes.changed(tenant)  // committed while the old value was being read
            return loads.load("old")
        }
        #expect(try await cache.value(tenant, "a") { loads.load("new") } == "new")
    }

    @Test func nothingFoundIsNotCachedAndEntriesExpire() async throws {
        let cache = TenantCache<String, String>(changes: TenantChanges(), capacity: 10, lifetime: .milliseconds(50))
        let tenant = TenantID()
        let loads = Loads()
        #expect(try await cache.value(tenant, "a") { loads.load(nil) } == nil)
        #expect(try await cache.value(tenant, "a") { loads.load("found") } == "found")
        try await Task.sleep(for: .milliseconds(80))
        #expect(try await cache.value(tenant, "a") { loads.load("later") } == "later")
        #expect(loads.value == 3)
    }

    @Test func staysWithinItsCapacity() async throws {
        let cache = TenantCache<Int, String>(changes: TenantChanges(), capacity: 3, lifetime: .seconds(60))
        let tenant = TenantID()
        let loads = Loads()
        for key in 0..<5 { _ = try await cache.value(tenant, key) { loads.load("\(key)") } }
        var cached = 0
        for key in 0..<5 where try await cache.value(tenant, key, load: { nil }) != nil { cached += 1 }
        #expect(cached == 3)
    }

    /// The reading moves when a transaction that published commits, and only then.
    @Test func theDatabaseMovesTheReadingOnCommitsThatPublished() async throws {
        try await TestEnvironment.withDatabase(poolSize: 2) { database in
            let tenant = TenantID()
            let start = database.changes.reading(tenant)
            try await database.withTenant(tenant) { tx in _ = try await tx.query("SELECT 1") }
            #expect(database.changes.reading(tenant) == start, "a read changes nothing")

            struct RolledBack: Error {}
            await #expect(throws: RolledBack.self) {
                try await database.withTenant(tenant) { tx in
                    try await tx.publish(Counted(number: 1))
                    throw RolledBack()
                }
            }
            #expect(database.changes.reading(tenant) == start, "a rolled-back publish changes nothing")

            try await database.withTenant(tenant) { tx in try await tx.publish(Counted(number: 2)) }
            #expect(database.changes.reading(tenant) != start)
        }
    }
}
