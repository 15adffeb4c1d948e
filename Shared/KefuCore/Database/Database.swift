import KefuModels
import Logging
import PostgresNIO
import Synchronization

/// The service's connection pool and the one way to open a transaction on it.
///
/// Tenant data is only ever touched inside `withTenant`, which pins the transaction to one tenant
/// so that row-level security hides every other tenant's rows, whatever ids a request sends.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// Moves for a tenant whenever a transaction of this process that published one of its
    /// events commits (the event follower moves it for other processes' events).
    public let changes = TenantChanges()

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public init(url: DatabaseURL, poolSize: Int, applicationName: String, logger: Logger) {
        self.init(
            client: PostgresClient(
                configuration: url.clientConfiguration(poolSize: poolSize, applicationName: applicationName),
                backgroundLogger: logger
            ),
            logger: logger
        )
    }

    /// Runs `body` in one transaction scoped to `tenant`: `set_config('kefu.tenant_id', …, true)` is
    /// transaction-local, so the setting can never leak to the next user of a pooled connection.
    @discardableResult
    public func withTenant<Result: Sendable>(
        _ tenant: TenantID,
        _ body: @escaping @Sendable (TenantTransaction) async throws -> Result
    ) async throws -> Result {
        let notices = CommitNotices()
        let result: Result
        do {
            result = try await withTransaction(notifyingAfterCommit: notices) { connection in
                for try await _ in try await connection.execute(CoreStatements.SetTenant(tenant: tenant.description), logger: logger) {}
                return try await body(TenantTransaction(connection: connection, tenantID: tenant, logger: logger, notices: notices))
            }
        } catch {
            IdempotencyClaim.current?.transactionEnded(committed: false)
            throw error
        }
        IdempotencyClaim.current?.transactionEnded(committed: true)
        if notices.published { changes.changed(tenant) }
        return result
    }

    /// A transaction that belongs to no tenant: only for the few global tables (event cursors,
    /// migrations). Tenant tables stay invisible here because no tenant is set.
    public func withTransaction<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withTransaction(notifyingAfterCommit: nil, body)
    }

    func withTransaction<Result: Sendable>(
        notifyingAfterCommit notices: CommitNotices?,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        // After a restart the pool may hand out a connection the server has already closed
        // before it notices: a transaction that could not even begin ran nothing, so it is
        // retried on another connection.
        var attempt = 1
        while true {
            let begun = Begun()
            do {
                return try await client.withConnection { [logger] connection in
                    try await connection.abandoningWhenClosed {
                        let result = try await connection.inTransaction(logger: logger, begun: begun, body)
                        if let notices { await connection.send(notices, logger: logger) }
                        return result
                    }
                }
            } catch where !begun.value && attempt < 3 && ConnectionLost.isDatabaseUnavailable(error) {
                attempt += 1
            }
        }
    }

    /// One statement outside any transaction and any tenant (global tables, the few SECURITY
    /// DEFINER doors), its rows collected.
    public func rows(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        try await client.withConnection { [logger] connection in
            try await connection.abandoningWhenClosed {
                try await connection.query(query, logger: logger, file: file, line: line).collect()
            }
        }
    }

    /// Succeeds when the database answers a trivial query.
    public func ping() async throws {
        _ = try await rows("SELECT 1")
    }
}

extension PostgresConnection {
    /// BEGIN … COMMIT around `body`, rolling back and rethrowing `body`'s own error unchanged
    /// (postgres-nio's `withTransaction` wraps it, which would hide our problem errors).
    func inTransaction<Result: Sendable>(
        logger: Logger,
        begun: Begun = Begun(),
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        _ = try await execute(CoreStatements.Begin(), logger: logger)
        begun.mark()
        let result: Result
        do {
            result = try await body(self)
        } catch {
            // A connection the server closed (a restart, a kill) rolled back with its session.
            // Asking it again would hang: postgres-nio 1.33 never answers a statement that must
            // first be prepared on a closing connection. For the same reason ROLLBACK, rare, is
            // sent unprepared.
            if !isClosed {
                do {
                    try await query("ROLLBACK", logger: logger)
                } catch let rollbackError {
                    logger.error("rollback failed", metadata: ["error": "\(String(reflecting: rollbackError))"])
                }
            }
            throw error
        }
        _ = try await execute(CoreStatements.Commit(), logger: logger)
        return result
    }
}

extension PostgresConnection {
    /// Sends a committed transaction's notices. A failure is logged, not thrown: the transaction
    /// has committed, and a lost wake-up only delays (consumers poll).
    func send(_ notices: CommitNotices, logger: Logger) async {
        let (channels, payloads) = notices.pending
        guard !channels.isEmpty else { return }
        do {
            for try await _ in try await execute(CoreStatements.Notify(channels: channels, payloads: payloads), logger: logger) {}
        } catch {
            logger.warning("notices after commit not sent", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}

/// Whether a transaction got as far as BEGIN (before it, nothing can have been written).
final class Begun: Sendable {
    private let flag = Atomic<Bool>(false)
    func mark() { flag.store(true, ordering: .releasing) }
    var value: Bool { flag.load(ordering: .acquiring) }
}

/// A transaction pinned to one tenant. Pass it to repositories; publish events on it.
public struct TenantTransaction: Sendable {
    public let connection: PostgresConnection
    public let tenantID: TenantID
    public let logger: Logger
    /// What to NOTIFY once this transaction commits.
    public let notices: CommitNotices

    @discardableResult
    public func query(
        _ query: PostgresQuery, file: String = #fileID, line: Int = #line
    ) async throws -> PostgresRowSequence {
        try await connection.query(query, logger: logger, file: file, line: line)
    }
}
