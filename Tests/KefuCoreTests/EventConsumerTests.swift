import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import PostgresNIO
import ServiceLifecycle
import Testing

struct Counted: KefuEvent {
    static let eventType = "test.counted"
    var number: Int
}

/// An event no test consumer handles.
struct Uncounted: KefuEvent {
    static let eventType = "test.uncounted"
    var number: Int
}

/// What one consumer received, for one tenant (other tests publish concurrently).
actor Received {
    private(set) var numbers: [Int] = []
    func add(_ number: Int) { numbers.append(number) }

    /// Waits until every number in `expected` has arrived, up to `timeout`.
    func waitFor(_ expected: Set<Int>, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if expected.isSubset(of: Set(numbers)) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return expected.isSubset(of: Set(numbers))
    }
}

@Suite struct EventConsumerTests {
    /// Runs `body` with the serving pool (publishers) and the event reader's pool (consumers).
    func withDatabases<T: Sendable>(
        poolSize: Int = 4, _ body: @escaping @Sendable (Database, Database) async throws -> T
    ) async throws -> T {
        try await TestEnvironment.withDatabase(poolSize: poolSize) { database in
            try await TestEnvironment.withDatabase(url: TestEnvironment.eventsDatabaseURL) { reader in
                try await body(database, reader)
            }
        }
    }

    func consumer(
        _ name: String, reader: Database, tenant: TenantID, received: Received, pollInterval: Duration = .seconds(1),
        mode: EventConsumer.Mode = .durable
    ) throws -> EventConsumer {
        EventConsumer(
            name: name, types: [Counted.eventType], reader: reader, listenURL: try DatabaseURL(TestEnvironment.eventsDatabaseURL),
            pollInterval: pollInterval, mode: mode, logger: TestEnvironment.logger
        ) { event in
            #expect(event.type == Counted.eventType, "a consumer is given only its types")
            guard event.tenantID == tenant else { return }
            await received.add(try event.decode(Counted.self).number)
        }
    }

    /// Runs `consumer` while `body` runs, then stops it the way a deploy does (graceful
    /// shutdown: the batch in hand finishes and its cursor is stored).
    func whileRunning<T: Sendable>(_ consumer: EventConsumer, _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(services: [consumer], logger: TestEnvironment.logger)
        let task = Task { try await group.run() }
        defer { task.cancel() }
        let result = try await body()
        await group.triggerGracefulShutdown()
        _ = await task.result
        return result
    }

    struct RolledBack: Error {}

    /// A batch handler gets the events in delivery order, whole batches at a time; one that
    /// fails gets the same batch again, so nothing is skipped.
    @Test func aBatchHandlerGetsEveryEventAndItsFailedBatchAgain() async throws {
        try await withDatabases { database, reader in
            let tenant = TenantID()
            let received = Received()
            let failures = Received()
            let name = "test-batch-\(UUID())"
            // From now: a fresh durable consumer would otherwise read the whole test outbox three events at a time.
            let consumer = EventConsumer(
                name: name, types: [Counted.eventType], reader: reader, listenURL: try DatabaseURL(TestEnvironment.eventsDatabaseURL),
                pollInterval: .seconds(1), batchSize: 3, mode: .durableFromNow, logger: TestEnvironment.logger
            ) { events in
                let foreign = events.count { $0.type != Counted.eventType }
                #expect(foreign == 0, "a consumer is given only its types")
                let mine = try events.filter { $0.tenantID == tenant }.map { try $0.decode(Counted.self).number }
                if mine.contains(4), await failures.numbers.isEmpty {
                    await failures.add(4)
                    throw RolledBack()
                }
                for number in mine { await received.add(number) }
            }
            try await whileRunning(consumer) {
                for _ in 0..<400 where try await reader.rows("SELECT 1 FROM kefu.event_cursors WHERE consumer = \(name)").isEmpty {
                    try await Task.sleep(for: .milliseconds(50))
                }
                // Other types in between, more than a batch of them: skipped in Postgres, passed by the cursor.
                for number in 1...7 {
                    try await database.withTenant(tenant) { tx in
                        for _ in 0..<4 { _ = try await tx.publish(Uncounted(number: number)) }
                        _ = try await tx.publish(Counted(number: number))
                    }
                }
                #expect(await received.waitFor(Set(1...7)))
            }
            #expect(await received.numbers == Array(1...7), "in order, each once")
            #expect(await failures.numbers == [4])
        }
    }

    /// A `.durableFromNow` consumer's first start skips the past; after that it is durable:
    /// what was published while it was stopped is delivered when it starts again.
    @Test func aConsumerStartingFromNowSkipsThePastOnceOnly() async throws {
        try await withDatabases { database, reader in
            let tenant = TenantID()
            let name = "test-now-\(UUID())"
            try await database.withTenant(tenant) { tx in _ = try await tx.publish(Counted(number: 1)) }
            let first = Received()
            try await whileRunning(try consumer(name, reader: reader, tenant: tenant, received: first, mode: .durableFromNow)) {
                // Once it has stored where it starts (publishing before that would race its start).
                for _ in 0..<400 where try await reader.rows("SELECT 1 FROM kefu.event_cursors WHERE consumer = \(name)").isEmpty {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await database.withTenant(tenant) { tx in _ = try await tx.publish(Counted(number: 2)) }
                #expect(await first.waitFor([2]))
            }
            #expect(await first.numbers == [2], "the event from before its first start is not delivered")
            try await database.withTenant(tenant) { tx in _ = try await tx.publish(Counted(number: 3)) }
            let second = Received()
            try await whileRunning(try consumer(name, reader: reader, tenant: tenant, received: second, mode: .durableFromNow)) {
                #expect(await second.waitFor([3]))
            }
            #expect(await second.numbers == [3])
        }
    }

    /// The wake-up names the event type, so a consumer can sleep through other types, and the
    /// cursor of a consumer that handles none of a run of events still moves past them.
    @Test func wakeUpsNameTheTypeAndTheCursorPassesOtherTypes() async throws {
        try await withDatabases { database, reader in
            let tenant = TenantID()
            let connection = try await PostgresConnection.connect(
                configuration: try DatabaseURL(TestEnvironment.eventsDatabaseURL).connectionConfiguration(applicationName: "test-wake"),
                id: 1, logger: TestEnvironment.logger
            )
            let payloads = try await connection.listen(on: EventConsumer.channel) { notifications in
                try await database.withTenant(tenant) { tx in
                    _ = try await tx.publish(Uncounted(number: 1))
                    _ = try await tx.publish(Counted(number: 1))
                    _ = try await tx.publish(Counted(number: 2))
                }
                var payloads: Set<String> = []
                for try await notification in notifications {
                    payloads.insert(notification.payload)
                    if payloads.isSuperset(of: [Counted.eventType, Uncounted.eventType]) { break }
                }
                return payloads
            }
            try await connection.close()
            #expect(payloads.isSuperset(of: [Counted.eventType, Uncounted.eventType]))

            let name = "test-cursor-\(UUID())"
            let received = Received()
            try await whileRunning(try consumer(name, reader: reader, tenant: tenant, received: received)) {
                try await database.withTenant(tenant) { tx in _ = try await tx.publish(Counted(number: 3)) }
                #expect(await received.waitFor([1, 2, 3]))
                let (last, txid) = try await database.withTenant(tenant) { tx in
                    var last: Int64 = 0
                    for _ in 0..<5 { last = try await tx.publish(Uncounted(number: 2)) }
                    var txid = ""
                    for try await value in try await tx.query("SELECT pg_current_xact_id()::text").decode(String.self) { txid = value }
                    return (last, txid)
                }
                // Nothing to deliver, yet the stored cursor passes them (on the next poll).
                var passed = false
                for _ in 0..<100 where !passed {
                    try await Task.sleep(for: .milliseconds(100))
                    passed = try await reader.rows("""
                        SELECT 1 FROM kefu.event_cursors
                        WHERE consumer = \(name) AND (last_txid, last_id) >= (\(txid)::xid8, \(last))
                        """).isEmpty == false
                }
                #expect(passed, "the cursor moved past the events of other types")
            }
            #expect(Set(await received.numbers) == [1, 2, 3])
        }
    }

    @Test func concurrentPublishersEveryCommittedEventOnceRolledBackNever() async throws {
        try await withDatabases(poolSize: 12) { database, reader in
            let tenant = TenantID()
            let received = Received()
            let consumer = try consumer("test-\(UUID())", reader: reader, tenant: tenant, received: received)
            let committed = try await whileRunning(consumer) {
                let committed = try await withThrowingTaskGroup(of: Int?.self) { group in
                    for publisher in 0..<8 {
                        for round in 0..<25 {
                            let number = publisher * 1000 + round
                            group.addTask {
                                do {
                                    try await database.withTenant(tenant) { tx in
                                        try await tx.publish(Counted(number: number))
                                        // Hold the transaction so that commits land out of id order.
                                        try await Task.sleep(for: .milliseconds(Int.random(in: 0...15)))
                                        if number % 5 == 0 { throw RolledBack() }
                                    }
                                    return number
                                } catch is RolledBack {
                                    return nil
                                }
                            }
                        }
                    }
                    return try await group.reduce(into: Set<Int>()) { if let number = $1 { $0.insert(number) } }
                }
                #expect(await received.waitFor(committed), "every committed event is delivered")
                // Give stragglers (a rolled-back event, a duplicate) time to show up if they exist.
                try await Task.sleep(for: .seconds(1.5))
                return committed
            }
            let numbers = await received.numbers
            #expect(committed.count == 160)
            #expect(Set(numbers) == committed, "no rolled-back event is ever delivered")
            #expect(numbers.count == Set(numbers).count, "no event is delivered twice in normal operation")
        }
    }

    @Test func anEventCommittedBehindALongerTransactionIsNotSkipped() async throws {
        try await withDatabases { database, reader in
            let tenant = TenantID()
            let received = Received()
            let consumer = try consumer("test-\(UUID())", reader: reader, tenant: tenant, received: received)
            try await whileRunning(consumer) {
                let (released, release) = AsyncStream.makeStream(of: Void.self)
                let (published, didPublish) = AsyncStream.makeStream(of: Void.self)
                // The slow transaction takes the lower id first and commits last.
                let slow = Task {
                    try await database.withTenant(tenant) { tx in
                        try await tx.publish(Counted(number: 1))
                        didPublish.yield()
                        for await _ in released { break }
                    }
                }
                for await _ in published { break }
                try await database.withTenant(tenant) { try await $0.publish(Counted(number: 2)) }
                // The consumer runs in the meantime; it must not move past event 1 while it is pending.
                try await Task.sleep(for: .seconds(1.5))
                release.yield()
                try await slow.value
                #expect(await received.waitFor([1, 2]))
            }
            #expect(Set(await received.numbers) == [1, 2])
        }
    }

    @Test func aRestartedConsumerCatchesUpFromItsCursor() async throws {
        try await withDatabases { database, reader in
            let tenant = TenantID()
            let name = "test-\(UUID())"
            let first = Received()
            try await whileRunning(try consumer(name, reader: reader, tenant: tenant, received: first)) {
                for number in 1...5 { try await database.withTenant(tenant) { try await $0.publish(Counted(number: number)) } }
                #expect(await first.waitFor(Set(1...5)))
            }
            // Published while no consumer runs: nobody hears the NOTIFY.
            for number in 6...10 { try await database.withTenant(tenant) { try await $0.publish(Counted(number: number)) } }
            let second = Received()
            try await whileRunning(try consumer(name, reader: reader, tenant: tenant, received: second)) {
                #expect(await second.waitFor(Set(6...10)))
            }
            #expect(Set(await second.numbers) == Set(6...10), "the cursor survived: nothing before it again")
        }
    }

    @Test func aKilledListenConnectionReconnectsAndCatchesUp() async throws {
        try await withDatabases { database, reader in
            let tenant = TenantID()
            let name = "test-\(UUID())"
            let received = Received()
            // A poll interval far beyond the test: only NOTIFY and the reconnect catch-up can deliver.
            let consumer = try consumer(name, reader: reader, tenant: tenant, received: received, pollInterval: .seconds(600))
            try await whileRunning(consumer) {
                let listener = "kefu-listen:\(name)"
                func listenerPIDs() async throws -> [Int32] {
                    try await database.client.query(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = \(listener)", logger: TestEnvironment.logger
                    ).decode(Int32.self).reduce(into: []) { $0.append($1) }
                }
                var pids: [Int32] = []
                for _ in 0..<100 where pids.isEmpty {
                    pids = try await listenerPIDs()
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await Task.sleep(for: .milliseconds(300))
                try await database.withTenant(tenant) { try await $0.publish(Counted(number: 1)) }
                #expect(await received.waitFor([1], timeout: .seconds(10)), "delivered on NOTIFY")

                // As the listener's own role: the serving role may not end another role's session.
                _ = try await reader.rows(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = \(listener)"
                )
                // Published while the consumer is disconnected: its NOTIFY reaches nobody.
                try await database.withTenant(tenant) { try await $0.publish(Counted(number: 2)) }
                #expect(await received.waitFor([2], timeout: .seconds(15)), "delivered by the catch-up after reconnecting")
                let newPIDs = try await listenerPIDs()
                #expect(newPIDs.count == 1 && newPIDs != pids, "a new listen connection replaced the killed one")
                try await database.withTenant(tenant) { try await $0.publish(Counted(number: 3)) }
                #expect(await received.waitFor([3], timeout: .seconds(10)), "the new connection hears NOTIFY again")
            }
        }
    }

    @Test func onlyOneReplicaOfAConsumerDeliversAtATime() async throws {
        try await withDatabases(poolSize: 8) { database, reader in
            let tenant = TenantID()
            let name = "test-\(UUID())"
            let received = Received()
            let replicaA = try consumer(name, reader: reader, tenant: tenant, received: received)
            let replicaB = try consumer(name, reader: reader, tenant: tenant, received: received)
            try await whileRunning(replicaA) {
                try await whileRunning(replicaB) {
                    for number in 1...30 { try await database.withTenant(tenant) { try await $0.publish(Counted(number: number)) } }
                    #expect(await received.waitFor(Set(1...30)))
                    try await Task.sleep(for: .seconds(1.5))
                }
            }
            let numbers = await received.numbers
            #expect(numbers.count == 30, "each event handled once, not once per replica")
        }
    }
}
