import Foundation
import Logging
import Prometheus

/// What a service's routes and background work are built from: one of each per process.
public struct ServiceResources: Sendable {
    public let service: ServiceName
    public let config: KefuConfig
    public let database: Database
    public let tokenVerifier: TokenVerifier
    public let revocations: RevocationList
    public let metrics: PrometheusCollectorRegistry
    public let logger: Logger

    public init(
        service: ServiceName, config: KefuConfig, database: Database, tokenVerifier: TokenVerifier,
        revocations: RevocationList = RevocationList(), metrics: PrometheusCollectorRegistry, logger: Logger
    ) {
        self.revocations = revocations
        self.service = service
        self.config = config
        self.database = database
        self.tokenVerifier = tokenVerifier
        self.metrics = metrics
        self.logger = logger
    }

    /// The process's resources from its configuration. The pool is created, not yet running:
    /// the application runs it as one of its services.
    public static func make(service: ServiceName, config: KefuConfig, logger: Logger) async throws -> ServiceResources {
        ServiceResources(
            service: service, config: config,
            database: Database(
                url: try DatabaseURL(config.databaseURL), poolSize: config.databasePoolSize,
                applicationName: "kefu-\(service.rawValue)", logger: logger
            ),
            tokenVerifier: try await TokenVerifier.load(files: config.jwtPublicKeyFiles, logger: logger),
            metrics: PrometheusCollectorRegistry(), logger: logger
        )
    }

    /// An outbox consumer for this process, listening on its own connection (as the serving role).
    public func eventConsumer(
        name: String, mode: EventConsumer.Mode = .durable, handler: @escaping EventConsumer.Handler
    ) throws -> EventConsumer {
        EventConsumer(
            name: name, database: database, listenURL: try DatabaseURL(config.databaseURL),
            pollInterval: config.eventPollInterval, mode: mode, logger: logger, handler: handler
        )
    }

    /// Follows every event in this process: keeps `revocations` current, and moves
    /// `database.changes` for events other processes publish (every service runs one).
    func eventFollower() throws -> EventConsumer {
        let (revocations, changes) = (self.revocations, database.changes)
        return try eventConsumer(
            name: "follower:\(service.rawValue):\(UUID().uuidString.lowercased())",
            // A little more than a token's lifetime: older revocations concern expired tokens.
            mode: .everyProcess(replaying: config.accessTokenLifetime + .seconds(60))
        ) { event in
            changes.changed(event.tenantID)
            if RevocationList.eventTypes.contains(event.type) { try revocations.apply(event) }
        }
    }
}
