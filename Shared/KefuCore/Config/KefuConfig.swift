import Foundation
import Logging

/// Everything a service reads from its environment. Every value has a default that works on a
/// developer machine after `make run`; the README lists them all.
public struct KefuConfig: Sendable {
    /// Serving role: owns nothing, cannot bypass row-level security.
    public var databaseURL: String
    /// Event reader role (`kefu_events`): event consumers read every tenant's events and keep
    /// their cursors through it, and through nothing else.
    public var eventsDatabaseURL: String
    /// Platform role (`kefu_platform`): the platform operator's cross-tenant listing (accounts).
    public var platformDatabaseURL: String
    /// Owner role: runs migrations only.
    public var migrationDatabaseURL: String
    /// Connections in this process's pool. Small on purpose: five services share one Postgres.
    public var databasePoolSize: Int
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    /// Folder holding `schema/<service>/NNNN_name.sql`.
    public var schemaDirectory: String
    /// PEM files of the ES256 keys verifying access tokens (comma separated, to allow rotation).
    public var jwtPublicKeyFiles: [String]
    /// PEM file of the ES256 key signing access tokens (accounts only).
    public var jwtPrivateKeyFile: String
    /// Keys encrypting secrets at rest (`SecretBox`): base64, one per line, newest first.
    public var secretsKeyFile: String
    /// How often an event consumer polls even without a NOTIFY wake-up.
    public var eventPollInterval: Duration
    /// Lifetime of access tokens; also how far back each process replays credential revocations.
    public var accessTokenLifetime: Duration
    /// The environment this was read from: services read their own settings from it too.
    public var environment: [String: String]
    /// The platform operator's bearer token (creates and suspends tenants); nil disables those routes.
    public var platformToken: String?

    public init(service: ServiceName, environment: [String: String] = ProcessInfo.processInfo.environment) {
        func value(_ name: String, _ fallback: String) -> String {
            environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        }
        self.environment = environment
        let dataDirectory = value("KEFU_DATA_DIR", ".data")
        databaseURL = value("KEFU_DATABASE_URL", "postgres://kefu_app:kefu_app@127.0.0.1:5433/kefu")
        // Each defaults to the serving URL with its own role's user and (development) password.
        eventsDatabaseURL = value(
            "KEFU_EVENTS_DATABASE_URL",
            DatabaseURL.replacingCredentials(in: databaseURL, user: "kefu_events", password: "kefu_events")
        )
        platformDatabaseURL = value(
            "KEFU_PLATFORM_DATABASE_URL",
            DatabaseURL.replacingCredentials(in: databaseURL, user: "kefu_platform", password: "kefu_platform")
        )
        migrationDatabaseURL = value("KEFU_MIGRATION_DATABASE_URL", "postgres://kefu_owner:kefu_owner@127.0.0.1:5433/kefu")
        databasePoolSize = Int(value("KEFU_DATABASE_POOL_SIZE", "8")) ?? 8
        host = value("KEFU_HOST", "127.0.0.1")
        port = Int(value("KEFU_\(service.rawValue.uppercased())_PORT", "\(service.defaultPort)")) ?? service.defaultPort
        logLevel = Logger.Level(rawValue: value("KEFU_LOG_LEVEL", "info").lowercased()) ?? .info
        schemaDirectory = value("KEFU_SCHEMA_DIR", "schema")
        jwtPrivateKeyFile = value("KEFU_JWT_PRIVATE_KEY_FILE", "\(dataDirectory)/keys/jwt-es256.pem")
        jwtPublicKeyFiles = value("KEFU_JWT_PUBLIC_KEY_FILES", "\(dataDirectory)/keys/jwt-es256.pub.pem")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        secretsKeyFile = value("KEFU_SECRETS_KEY_FILE", "\(dataDirectory)/keys/secrets.key")
        let pollSeconds = Double(value("KEFU_EVENT_POLL_SECONDS", "5")) ?? 5
        eventPollInterval = .milliseconds(Int(pollSeconds * 1000))
        accessTokenLifetime = .seconds(min(Int(value("KEFU_ACCESS_TOKEN_TTL_SECONDS", "900")) ?? 900, 900))
        platformToken = environment["KEFU_PLATFORM_TOKEN"].flatMap { $0.count >= 16 ? $0 : nil }
    }
}
