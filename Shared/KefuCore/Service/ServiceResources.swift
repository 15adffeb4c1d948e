import Foundation
import Logging
import Prometheus

/// What a service's routes and background work are built from: one of each per process.
public struct ServiceResources: Sendable {
    public let service: ServiceName
    public let config: KefuConfig
    public let database: Database
    /// The event reader's pool (role `kefu_events`): event consumers read events and cursors
    /// through it, never through `database`.
    public let eventReader: Database
    public let tokenVerifier: TokenVerifier
    public let revocations: RevocationList
    public let metrics: PrometheusCollectorRegistry
    public let logger: Logger

    public init(
        service: ServiceName, config: KefuConfig, database: Database, eventReader: Database, tokenVerifier: TokenVerifier,
        revocations: RevocationList = RevocationList(), metrics: PrometheusCollectorRegistry, logger: Logger
    ) {
        self.revocations = revocations
        self.service = service
        self.config = config
        self.database = database
        self.eventReader = eventReader
        self.tokenVerifier = tokenVerifier
        self.metrics = metrics
        self.logger = logger
    }

    /// The process's resources from its configuration. The pools are created, not yet running:
    /// the application runs them as its services.
    public static func make(service: ServiceName, config: KefuConfig, logger: Logger) async throws -> ServiceResources {
        ServiceResources(
            service: service, config: config,
            database: Database(
                url: try DatabaseURL(config.databaseURL), poolSize: config.databasePoolSize,
                applicationName: "kefu-\(service.rawValue)", logger: logger
            ),
            // Consumers read one batch at a time, each from its own task: two connections serve
            // every consumer of a process (handlers write through the serving pool).
            eventReader: Database(
                url: try DatabaseURL(config.eventsDatabaseURL), poolSize: 2,
                applicationName: "kefu-\(service.rawValue)-events", logger: logger
            ),
            tokenVerifier: try await TokenVerifier.load(files: config.jwtPublicKeyFiles, logger: logger),
            metrics: PrometheusCollectorRegistry(), logger: logger
        )
    }

    /// An outbox consumer for this process, reading through the event reader's pool and
    /// listening on its own connection (both as `kefu_events`).
    public func eventConsumer(
        name: String, types: Set<String>, mode: EventConsumer.Mode = .durable, handler: @escaping EventConsumer.Handler
    ) throws -> EventConsumer {
        EventConsumer(
            name: name, types: types, reader: eventReader, listenURL: try DatabaseURL(config.eventsDatabaseURL),
            pollInterval: config.eventPollInterval, mode: mode, logger: logger, handler: handler
        )
    }

    /// The same, with a handler that takes each batch at once.
    public func eventConsumer(
        name: String, types: Set<String>, mode: EventConsumer.Mode = .durable, batchHandler: @escaping EventConsumer.BatchHandler
    ) throws -> EventConsumer {
        EventConsumer(
            name: name, types: types, reader: eventReader, listenURL: try DatabaseURL(config.eventsDatabaseURL),
            pollInterval: config.eventPollInterval, mode: mode, logger: logger, batchHandler: batchHandler
        )
    }

    /// Follows, in this process, the revocations and the `cachedEventTypes` (the events of the data
    /// the service caches): keeps `revocations` current, and moves `database.changes` for those
    /// events when other processes publish them (every service runs one).
    func eventFollower(cachedEventTypes: Set<String>) throws -> EventConsumer {
        let (revocations, changes) = (self.revocations, database.changes)
        return try eventConsumer(
            name: "follower:\(service.rawValue):\(UUID().uuidString.lowercased())",
            types: RevocationList.eventTypes.union(cachedEventTypes),
            // A little more than a token's lifetime: older revocations concern expired tokens.
            mode: .everyProcess(replaying: config.accessTokenLifetime + .seconds(60))
        ) { event in
            changes.changed(event.tenantID)
            if RevocationList.eventTypes.contains(event.type) { try revocations.apply(event) }
        }
    }
}
