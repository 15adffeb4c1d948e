import Foundation
import PostgresNIO

/// Parses `postgres://user:password@host:port/database` into postgres-nio configurations.
public struct DatabaseURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(_ string: String) throws {
        guard let components = URLComponents(string: string),
              ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty,
              let username = components.user
        else { throw DatabaseURLError(url: Self.redacted(string)) }
        self.host = host
        self.port = components.port ?? 5432
        self.username = username
        self.password = components.password
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.database = path.isEmpty ? username : path
    }

    /// `url` with another role's user name and password, everything else kept: the event
    /// reader's and the platform's connections default to the serving URL as their own roles.
    /// An unparseable `url` is returned as is (parsing it later says what is wrong).
    public static func replacingCredentials(in url: String, user: String, password: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil else { return url }
        components.user = user
        components.password = password
        return components.string ?? url
    }

    /// The URL without its password: configuration errors end up in logs.
    static func redacted(_ string: String) -> String {
        guard var components = URLComponents(string: string), components.password != nil else { return string }
        components.password = "****"
        return components.string ?? "(unparseable)"
    }

    public func clientConfiguration(poolSize: Int, applicationName: String) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable
        )
        configuration.options.maximumConnections = max(poolSize, 1)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    public func connectionConfiguration(applicationName: String) -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable
        )
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }
}

public struct DatabaseURLError: Error, CustomStringConvertible {
    public let url: String
    public var description: String { "not a postgres:// URL with a host and a user: \(url)" }
}
