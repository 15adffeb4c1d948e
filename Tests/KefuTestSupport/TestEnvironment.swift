import Foundation
import JWTKit
import KefuCore
import KefuModels
import Logging
import PostgresNIO

/// The database and keys the tests run against. `make test` starts a throwaway cluster and
/// exports KEFU_TEST_*; the defaults match it.
public enum TestEnvironment {
    public static let databaseURL = ProcessInfo.processInfo.environment["KEFU_TEST_DATABASE_URL"]
        ?? "postgres://kefu_app:kefu_app@127.0.0.1:5434/kefu"
    /// The event reader's and the platform's logins, as services derive them from the serving URL.
    public static let eventsDatabaseURL = ProcessInfo.processInfo.environment["KEFU_TEST_EVENTS_DATABASE_URL"]
        ?? DatabaseURL.replacingCredentials(in: databaseURL, user: "kefu_events", password: "kefu_events")
    public static let platformDatabaseURL = ProcessInfo.processInfo.environment["KEFU_TEST_PLATFORM_DATABASE_URL"]
        ?? DatabaseURL.replacingCredentials(in: databaseURL, user: "kefu_platform", password: "kefu_platform")
    public static let migrationDatabaseURL = ProcessInfo.processInfo.environment["KEFU_TEST_MIGRATION_DATABASE_URL"]
        ?? "postgres://kefu_owner:kefu_owner@127.0.0.1:5434/kefu"

    public static let platformToken = "test-platform-token-0123456789"

    /// A secrets key made for this test process.
    public static let secretsKeyFile: String = {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kefu-test-\(UUID()).secrets.key").path
        try! SecretBox.newKey().write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }()

    /// The repository's `schema/` folder, found from this file so tests run from any directory.
    public static let schemaDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schema").path

    public static let logger: Logger = {
        var logger = Logger(label: "kefu-test")
        logger.logLevel = ProcessInfo.processInfo.environment["KEFU_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    /// A configuration for `service` against the test database, on an ephemeral port.
    public static func config(for service: ServiceName) async throws -> KefuConfig {
        var config = KefuConfig(service: service, environment: [:])
        config.databaseURL = databaseURL
        config.eventsDatabaseURL = eventsDatabaseURL
        config.platformDatabaseURL = platformDatabaseURL
        config.migrationDatabaseURL = migrationDatabaseURL
        config.databasePoolSize = 4
        config.port = 0
        config.logLevel = logger.logLevel
        config.schemaDirectory = schemaDirectory
        config.jwtPublicKeyFiles = [try await TestKeys.shared.publicKeyFile]
        config.jwtPrivateKeyFile = try await TestKeys.shared.privateKeyFile
        config.secretsKeyFile = secretsKeyFile
        config.eventPollInterval = .seconds(1)
        config.platformToken = platformToken
        // bcrypt's cheapest cost: the tests check behaviour, make bench measures the real cost.
        config.environment["KEFU_BCRYPT_COST"] = "4"
        // Every test signs in from the same (absent) address, often as the same accounts: the
        // tests of the limits set their own.
        config.environment["KEFU_RATE_LIMIT_PER_ADDRESS"] = "1000000"
        config.environment["KEFU_RATE_LIMIT_PER_ACCOUNT"] = "1000000"
        // Webhook receivers in tests listen on 127.0.0.1. Any test server's dispatcher may send any
        // test's delivery, so every one runs with the same short schedule and timeout.
        config.environment["KEFU_WEBHOOK_ALLOW_PRIVATE"] = "1"
        config.environment["KEFU_WEBHOOK_RETRY_SCHEDULE"] = "0,0.1,0.1,0.1,0.1"
        // Long enough that a loaded machine finishes a test's setup, and sends another endpoint's
        // message, before a hanging attempt times out: at 10 s the whole suite at once once took
        // longer to deliver the other endpoint's message (aHangingEndpointDelaysNoOtherEndpoint).
        config.environment["KEFU_WEBHOOK_TIMEOUT_SECONDS"] = "30"
        // Every test server polls the one test database: more often would load it for all the
        // others (the server that creates a delivery is woken at once anyway).
        config.environment["KEFU_WEBHOOK_POLL_MS"] = "500"
        return config
    }

    /// Applies every service's migrations once per test process.
    public static func migrateAll() async throws {
        try await migration.value
    }

    private static let migration = Task {
        try await Migrator(url: try DatabaseURL(migrationDatabaseURL), schemaDirectory: schemaDirectory, logger: logger)
            .migrate(scopes: ServiceName.allCases.map(\.schema))
    }

    /// Runs `body` while a writing transaction stays open, as a slow writer elsewhere in the
    /// cluster would: `kefu.events_since` delivers no event committed after it began until it
    /// ends, so every consumer (and every replica's copy of reception's configuration) stays
    /// behind for the length of `body`.
    public static func withEventsHeldBack<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: try DatabaseURL(migrationDatabaseURL).connectionConfiguration(applicationName: "kefu-test"),
            id: 1, logger: logger
        )
        do {
            try await connection.query("BEGIN", logger: logger)
            try await connection.query("SELECT pg_current_xact_id()", logger: logger)
            let result = try await body()
            try await connection.query("ROLLBACK", logger: logger)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs one query as the owner role (which sees past row-level security): for checks on the
    /// catalogue and on what was or was not written.
    public static func ownerQuery<Row: PostgresDecodable & Sendable>(_ query: PostgresQuery, as: Row.Type) async throws -> [Row] {
        let connection = try await PostgresConnection.connect(
            configuration: try DatabaseURL(migrationDatabaseURL).connectionConfiguration(applicationName: "kefu-test"),
            id: 1, logger: logger
        )
        do {
            var rows: [Row] = []
            for try await row in try await connection.query(query, logger: logger).decode(Row.self) { rows.append(row) }
            try await connection.close()
            return rows
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs `body` with a live pool on the test database, migrated: as the serving role unless
    /// `url` names another (`eventsDatabaseURL`, `platformDatabaseURL`).
    public static func withDatabase<T: Sendable>(
        poolSize: Int = 4, url: String = databaseURL, _ body: @Sendable (Database) async throws -> T
    ) async throws -> T {
        try await migrateAll()
        let database = Database(url: try DatabaseURL(url), poolSize: poolSize, applicationName: "kefu-test", logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }
}

/// A signing key made for this test process, with its public half in a temporary file for the
/// services under test to verify with.
public actor TestKeys {
    public static let shared = TestKeys()

    /// One key per process, made once: a Task, because actor methods re-enter at every await.
    private let keys = Task<(signer: TokenSigner, publicKeyFile: String, privateKeyFile: String), any Error> {
        let privateKey = JWTKitKeys.newPrivateKeyPEM()
        let signer = try await TokenSigner(privateKeyPEM: privateKey)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("kefu-test-\(UUID())").path
        try signer.publicKeyPEM.write(toFile: base + ".pub.pem", atomically: true, encoding: .utf8)
        try privateKey.write(toFile: base + ".pem", atomically: true, encoding: .utf8)
        return (signer, base + ".pub.pem", base + ".pem")
    }

    private func load() async throws -> (TokenSigner, String) {
        let keys = try await keys.value
        return (keys.signer, keys.publicKeyFile)
    }

    /// The private half, for the accounts service under test to sign with.
    public var privateKeyFile: String {
        get async throws { try await keys.value.privateKeyFile }
    }

    public var publicKeyFile: String {
        get async throws { try await load().1 }
    }

    /// An access token for an employee of `tenant` holding `permissions`.
    public func token(
        tenant: TenantID, employee: EmployeeID = EmployeeID(), permissions: Set<Permission>,
        scopes: DataScopes = .unrestricted, department: UUID? = nil, lifetime: TimeInterval = 900
    ) async throws -> String {
        try await load().0.sign(AccessTokenClaims(
            subject: .employee(employee), tenant: tenant, permissions: permissions, scopes: scopes, department: department, lifetime: lifetime
        ))
    }

    /// An access token as accounts exchanges an API key of `tenant` for (`typ=api_key`).
    public func apiKeyToken(tenant: TenantID, key: ApiKeyID = ApiKeyID(), permissions: Set<Permission>) async throws -> String {
        try await load().0.sign(AccessTokenClaims(
            subject: .apiKey(key), tenant: tenant, permissions: permissions, scopes: .unrestricted, lifetime: 300
        ))
    }
}

public enum JWTKitKeys {
    /// A fresh ES256 private key, PEM.
    public static func newPrivateKeyPEM() -> String { ES256PrivateKey().pemRepresentation }
}
