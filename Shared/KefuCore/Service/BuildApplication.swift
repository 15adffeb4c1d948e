import Hummingbird
import Logging
import Prometheus

/// Builds the HTTP application of service `S`: the pool, migrations before the server listens,
/// the middleware chain every service shares, health routes, the service's routes and its
/// background services. Tests call it too (with a test configuration).
public func buildApplication<S: KefuServiceDefinition>(
    _ service: S.Type, config: KefuConfig, logger: Logger? = nil
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "kefu-\(S.name.rawValue)")
    logger.logLevel = config.logLevel
    let database = Database(
        url: try DatabaseURL(config.databaseURL), poolSize: config.databasePoolSize,
        applicationName: "kefu-\(S.name.rawValue)", logger: logger
    )
    let resources = ServiceResources(
        service: S.name, config: config, database: database,
        tokenVerifier: try await TokenVerifier.load(files: config.jwtPublicKeyFiles, logger: logger),
        metrics: PrometheusCollectorRegistry(), logger: logger
    )
    let router = Router(context: KefuRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: HTTPMetricsMiddleware(registry: resources.metrics))
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: AuthenticationMiddleware(verifier: resources.tokenVerifier))
    let migrated = MigrationState()
    HealthRoutes.add(to: router, resources: resources, migrated: migrated)
    try await S.addRoutes(to: router, resources: resources)

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "kefu-\(S.name.rawValue)"),
        services: [database.client],
        logger: logger
    )
    let migrator = Migrator(
        url: try DatabaseURL(config.migrationDatabaseURL), schemaDirectory: config.schemaDirectory, logger: logger
    )
    app.beforeServerStarts {
        try await migrator.migrate(scopes: [S.name.schema])
        migrated.markDone()
    }
    app.addServices(try await S.backgroundServices(resources: resources))
    return app
}
