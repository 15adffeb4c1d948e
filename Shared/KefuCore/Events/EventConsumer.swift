import Foundation
import KefuModels
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Delivers every committed outbox event of the `types` it handles, at least once and in delivery
/// order, to `handler`.
///
/// - It wakes only for NOTIFYs naming one of its types (the payload is the event type), and reads
///   only its types from the outbox: the rest is skipped in Postgres, the cursor moving past it.
/// - A durable cursor per consumer `name` (`kefu.event_cursors`) survives restarts.
/// - It catches up on start, on every NOTIFY wake-up, every `pollInterval`, and after reconnecting.
/// - It LISTENs on one dedicated connection (not a pooled one) and reconnects with backoff.
/// - That connection also holds a session advisory lock on the name, so among replicas running
///   the same consumer exactly one delivers at a time; if it dies, another takes over.
/// - A failing handler is retried with backoff; the cursor never passes an event not handled.
/// - A graceful shutdown lets the batch in hand finish (see `run`).
///
/// `.everyProcess` consumers (caches, the revocation list) run in every replica instead: no
/// stored cursor, no lock; they start by replaying a recent window and then follow.
///
/// It reads events and cursors through `reader`, a pool of the event reader role (`kefu_events`,
/// the only role that may read across tenants), and listens as that role too. Handlers write
/// with the serving pool, in the event's tenant (`withTenant(event.tenantID)`).
public final class EventConsumer: Service, Sendable {
    public typealias Handler = @Sendable (StoredEvent) async throws -> Void
    /// Handles a whole batch (in delivery order) or throws, and is then called again with it:
    /// for handlers that write one transaction per batch rather than one per event.
    public typealias BatchHandler = @Sendable ([StoredEvent]) async throws -> Void

    public enum Mode: Sendable {
        /// One delivering replica at a time, resuming from a durable cursor.
        case durable
        /// The same, but its very first start begins at the end of the outbox rather than at the
        /// beginning: for consumers acting on the world (webhooks to partners), for which past
        /// events are history, not work.
        case durableFromNow
        /// Every process, starting with the events of the last `replaying` interval.
        case everyProcess(replaying: Duration)
    }

    public static let channel = "kefu_events"
    /// The pause after each catch-up (the most a burst adds to delivery latency).
    static let settle = Duration.milliseconds(20)

    public let name: String
    /// The event types the handler is given; it never sees others.
    public let types: Set<String>
    let reader: Database
    let listenURL: DatabaseURL
    let pollInterval: Duration
    let batchSize: Int
    let handler: BatchHandler
    /// Whether `handler` takes whole batches (else it was given one event at a time).
    let batched: Bool
    let logger: Logger
    let mode: Mode
    private let isLeader = Atomic<Bool>(false)
    private let stopping = StopFlag()
    /// The position of an `.everyProcess` consumer (durable ones keep theirs in the database).
    private let memoryCursor = Mutex<EventPosition?>(nil)

    public convenience init(
        name: String,
        types: Set<String>,
        reader: Database,
        listenURL: DatabaseURL,
        pollInterval: Duration = .seconds(5),
        batchSize: Int = 200,
        mode: Mode = .durable,
        logger: Logger,
        handler: @escaping Handler
    ) {
        self.init(
            name: name, types: types, reader: reader, listenURL: listenURL, pollInterval: pollInterval, batchSize: batchSize,
            mode: mode, logger: logger, batched: false
        ) { events in for event in events { try await handler(event) } }
    }

    /// A consumer whose handler takes each batch at once (up to `batchSize` events).
    public convenience init(
        name: String,
        types: Set<String>,
        reader: Database,
        listenURL: DatabaseURL,
        pollInterval: Duration = .seconds(5),
        batchSize: Int = 200,
        mode: Mode = .durable,
        logger: Logger,
        batchHandler: @escaping BatchHandler
    ) {
        self.init(
            name: name, types: types, reader: reader, listenURL: listenURL, pollInterval: pollInterval, batchSize: batchSize,
            mode: mode, logger: logger, batched: true, batchHandler
        )
    }

    private init(
        name: String, types: Set<String>, reader: Database, listenURL: DatabaseURL, pollInterval: Duration, batchSize: Int,
        mode: Mode, logger: Logger, batched: Bool, _ handler: @escaping BatchHandler
    ) {
        precondition(!types.isEmpty, "an event consumer handles at least one event type")
        self.name = name
        self.types = types
        self.mode = mode
        self.reader = reader
        self.listenURL = listenURL
        self.pollInterval = pollInterval
        self.batchSize = batchSize
        self.handler = handler
        self.batched = batched
        var logger = logger
        logger[metadataKey: "consumer"] = "\(name)"
        self.logger = logger
    }

    /// The longest a graceful shutdown waits for the batch in hand before abandoning it.
    static let drainLimit = Duration.seconds(10)

    /// Until graceful shutdown (SIGTERM, or a test server closing): then it finishes the batch in
    /// hand and stores its cursor, still holding leadership, and takes no more, so a deploy
    /// redelivers nothing; after `drainLimit` it abandons the batch (redelivered by the next
    /// leader). Cancelled outright, it stops at once.
    public func run() async throws {
        let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (stopped, stop) = AsyncStream.makeStream(of: Void.self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listenForever(wake: wake) }
            group.addTask {
                for await _ in wakeUps where self.isLeader.load(ordering: .acquiring) {
                    await self.catchUp()
                    if self.stopping.isSet { break }
                    // Under steady traffic every commit wakes the consumer; pausing a moment
                    // after each catch-up turns a burst of wake-ups into one batch read.
                    try? await Task.sleep(for: Self.settle)
                }
            }
            group.addTask {
                for await _ in stopped {}
                if !Task.isCancelled { try? await Task.sleep(for: Self.drainLimit) }
            }
            await withGracefulShutdownHandler {
                await group.next()
            } onGracefulShutdown: {
                self.stopping.set()
                wake.finish()
                stop.finish()
            }
            group.cancelAll()
        }
        wake.finish()
        stop.finish()
    }

    // MARK: Listening and leadership

    /// Keeps one LISTEN connection open until cancelled; leadership ends with the connection.
    private func listenForever(wake: AsyncStream<Void>.Continuation) async {
        await keepListening(
            url: listenURL, applicationName: "kefu-listen:\(name)", logger: logger,
            ended: { self.isLeader.store(false, ordering: .releasing) }
        ) { connection in
            try await listen(on: connection, wake: wake)
        }
    }

    /// LISTENs and, every poll interval, claims leadership if free and wakes the delivery loop.
    /// Returns or throws when the connection fails.
    private func listen(on connection: PostgresConnection, wake: AsyncStream<Void>.Continuation) async throws {
        try await connection.listen(on: Self.channel) { notifications in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await notification in notifications where self.types.contains(notification.payload) {
                        wake.yield()
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        if !self.isLeader.load(ordering: .acquiring), try await self.claimLeadership(connection) {
                            self.isLeader.store(true, ordering: .releasing)
                            self.logger.info("event consumer is delivering")
                        }
                        // Also the catch-up after (re)connecting and the periodic safety net.
                        wake.yield()
                        try await Task.sleep(for: self.pollInterval)
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func claimLeadership(_ connection: PostgresConnection) async throws -> Bool {
        if case .everyProcess = mode { return true }
        let rows = try await connection.query(
            "SELECT pg_try_advisory_lock(hashtextextended(\("kefu.consumer:" + name), 0))", logger: logger
        )
        for try await claimed in rows.decode(Bool.self) { return claimed }
        return false
    }

    // MARK: Delivery

    /// Delivers batches until nothing deliverable is left.
    private func catchUp() async {
        do {
            var position = try await loadCursor()
            while !Task.isCancelled, !stopping.isSet {
                let (batch, scannedUpTo, scanned) = try await fetch(after: position)
                if batched {
                    if !batch.isEmpty, !(await deliver(batch)) { break }
                } else {
                    var handled = true
                    for event in batch {
                        handled = await deliver([event])
                        if !handled { break }
                        position = event.position
                        if stopping.isSet { break }
                    }
                    if !handled || stopping.isSet {
                        try await saveCursor(position)
                        break
                    }
                }
                position = scannedUpTo ?? position
                try await saveCursor(position)
                if scanned < batchSize { return }
            }
        } catch {
            if !Task.isCancelled {
                logger.warning("event catch-up failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    /// Calls the handler until it succeeds (true) or the consumer stops (false): nothing is
    /// skipped. A failing handler is not retried once the consumer is stopping.
    private func deliver(_ events: [StoredEvent]) async -> Bool {
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                try await handler(events)
                return true
            } catch {
                if stopping.isSet { return false }
                logger.error(
                    "event handler failed; retrying",
                    metadata: [
                        "event_id": "\(events[0].id)", "event_type": "\(events[0].type)", "events": "\(events.count)",
                        "error": "\(String(reflecting: error))",
                    ]
                )
                try? await Task.sleep(for: backoff.next())
            }
        }
        return false
    }

    /// The next events of this consumer's types, the position of the last event looked at (of
    /// any type; nil when there was none) and how many were looked at.
    private func fetch(after position: EventPosition) async throws -> (events: [StoredEvent], scannedUpTo: EventPosition?, scanned: Int) {
        let rows = try await reader.rows("""
            SELECT tenant_id, id, txid::text, type, payload::text, created_at, scanned
            FROM kefu.events_since(\(String(position.transactionID))::xid8, \(position.id), \(batchSize)::integer, \(types.sorted()))
            """)
        var events: [StoredEvent] = []
        var (last, scanned): (EventPosition?, Int) = (nil, 0)
        for row in rows {
            let (tenant, id, txid, type, payload, createdAt, count) = try row.decode(
                (UUID, Int64, String, String, String?, Date, Int32).self
            )
            let eventPosition = EventPosition(transactionID: UInt64(txid) ?? 0, id: id)
            (last, scanned) = (eventPosition, Int(count))
            guard let payload, types.contains(type) else { continue }
            events.append(StoredEvent(
                position: eventPosition, tenantID: TenantID(tenant), type: type, payload: payload, createdAt: createdAt
            ))
        }
        return (events, last, scanned)
    }

    private func loadCursor() async throws -> EventPosition {
        if case .everyProcess(let window) = mode {
            if let position = memoryCursor.withLock({ $0 }) { return position }
            let since = Date().addingTimeInterval(-Double(window.components.seconds))
            let rows = try await reader.rows("SELECT txid::text, id FROM kefu.events_position_since(\(since))")
            guard let (txid, id) = try rows.first?.decode((String, Int64).self) else { return .start }
            return EventPosition(transactionID: UInt64(txid) ?? 0, id: id)
        }
        let rows = try await reader.rows("SELECT last_txid::text, last_id FROM kefu.event_cursors WHERE consumer = \(name)")
        if let (txid, id) = try rows.first?.decode((String, Int64).self) {
            return EventPosition(transactionID: UInt64(txid) ?? 0, id: id)
        }
        guard case .durableFromNow = mode else { return .start }
        // First start: the newest position, stored at once so that a restart keeps it.
        let newest = try await reader.rows("SELECT txid::text, id FROM kefu.events_position_since(now())")
        guard let (txid, id) = try newest.first?.decode((String, Int64).self) else { return .start }
        let position = EventPosition(transactionID: UInt64(txid) ?? 0, id: id)
        try await saveCursor(position)
        logger.info("event consumer starts at the end of the outbox", metadata: ["position": "\(position)"])
        return position
    }

    /// Only ever moves the cursor forward, so a replica that lost leadership mid-batch cannot
    /// drag it back.
    private func saveCursor(_ position: EventPosition) async throws {
        if case .everyProcess = mode {
            memoryCursor.withLock { $0 = max($0 ?? position, position) }
            return
        }
        _ = try await reader.rows("""
            INSERT INTO kefu.event_cursors AS c (consumer, last_txid, last_id)
            VALUES (\(name), \(String(position.transactionID))::xid8, \(position.id))
            ON CONFLICT (consumer) DO UPDATE SET last_txid = EXCLUDED.last_txid, last_id = EXCLUDED.last_id, updated_at = now()
            WHERE (c.last_txid, c.last_id) < (EXCLUDED.last_txid, EXCLUDED.last_id)
            """)
    }
}

/// Exponential backoff from 100 ms to 10 s with jitter (every reconnecting loop uses it).
struct Backoff: Sendable {
    private var attempt = 0

    mutating func reset() { attempt = 0 }

    mutating func next() -> Duration {
        let base = min(100 * (1 << min(attempt, 7)), 10_000)
        attempt += 1
        return .milliseconds(Int.random(in: base / 2...base))
    }
}
