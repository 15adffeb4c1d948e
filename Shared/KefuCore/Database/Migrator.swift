import Logging
import PostgresNIO

/// Applies `schema/kefu/` (the shared core) and then `schema/<service>/`, each file in its own
/// transaction, as the owner role. Several services (or replicas) may start at once: an advisory
/// lock serialises them and each file is applied exactly once.
public struct Migrator: Sendable {
    /// Arbitrary but fixed: every Kefu process migrating this database takes the same lock.
    static let lockKey: Int64 = 0x6B65_6675_6D69_6772

    public let url: DatabaseURL
    public let schemaDirectory: String
    public let logger: Logger

    public init(url: DatabaseURL, schemaDirectory: String, logger: Logger) {
        self.url = url
        self.schemaDirectory = schemaDirectory
        self.logger = logger
    }

    /// Migrates the shared core and then each scope in order. Returns the files applied now.
    @discardableResult
    public func migrate(scopes: [String]) async throws -> [MigrationFile] {
        let files = try (["kefu"] + scopes).flatMap { try MigrationFile.load(scope: $0, from: schemaDirectory) }
        let connection = try await PostgresConnection.connect(
            configuration: url.connectionConfiguration(applicationName: "kefu-migrate"), id: 1, logger: logger
        )
        do {
            let applied = try await migrate(files, on: connection)
            try await connection.close()
            return applied
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private func migrate(_ files: [MigrationFile], on connection: PostgresConnection) async throws -> [MigrationFile] {
        try await connection.inTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.query("CREATE SCHEMA IF NOT EXISTS kefu", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS kefu.schema_migrations (
                    scope text NOT NULL,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (scope, name)
                )
                """, logger: logger)
        }
        var applied: [MigrationFile] = []
        for file in files where try await apply(file, on: connection) {
            applied.append(file)
        }
        return applied
    }

    /// Applies one file unless it is already recorded; refuses an applied file whose bytes changed.
    private func apply(_ file: MigrationFile, on connection: PostgresConnection) async throws -> Bool {
        try await connection.inTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            let rows = try await connection.query(
                "SELECT checksum FROM kefu.schema_migrations WHERE scope = \(file.scope) AND name = \(file.name)",
                logger: logger
            )
            for try await recorded in rows.decode(String.self) {
                guard recorded == file.checksum else {
                    throw MigrationError.editedAfterApply(scope: file.scope, name: file.name)
                }
                return false
            }
            do {
                try await connection.query(PostgresQuery(unsafeSQL: file.executableSQL), logger: logger)
            } catch let error as PSQLError {
                throw MigrationError.failed(scope: file.scope, name: file.name, reason: error.serverInfo?[.message] ?? "\(error.code)")
            }
            try await connection.query(
                "INSERT INTO kefu.schema_migrations (scope, name, checksum) VALUES (\(file.scope), \(file.name), \(file.checksum))",
                logger: logger
            )
            logger.info("applied migration", metadata: ["scope": "\(file.scope)", "file": "\(file.name)"])
            return true
        }
    }
}
