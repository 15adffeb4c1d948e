import Hummingbird
import Logging
import Prometheus

/// Builds the HTTP application of service `S`: the pools, migrations before the server listens,
/// the router, and the service's background services. Tests call it too (with a test configuration).
public func buildApplication<S: KefuServiceDefinition>(
    _ service: S.Type, config: KefuConfig, logger: Logger? = nil
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "kefu-\(S.name.rawValue)")
    logger.logLevel = config.logLevel
    let resources = try await ServiceResources.make(service: S.name, config: config, logger: logger)
    let migrated = MigrationState()
    let shared = try await S.makeShared(resources: resources)
    var app = Application(
        router: try await buildRouter(S.self, shared: shared, resources: resources, migrated: migrated),
        server: S.server(shared: shared, resources: resources),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "kefu-\(S.name.rawValue)"),
        services: [resources.database.client, resources.eventReader.client],
        logger: logger
    )
    let migrator = Migrator(
        url: try DatabaseURL(config.migrationDatabaseURL), schemaDirectory: config.schemaDirectory, logger: logger
    )
    let scopes = S.migrationScopes
    app.beforeServerStarts {
        try await migrator.migrate(scopes: scopes)
        migrated.markDone()
    }
    let background = [try resources.eventFollower(cachedEventTypes: S.cachedEventTypes)]
        + (try await S.backgroundServices(shared: shared, resources: resources))
    for service in background { app.addServices(AfterMigration(service: service, migrated: migrated)) }
    return app
}

/// The router every service shares (middleware chain, operational routes) plus `S`'s routes.
/// Middleware order matters: the request id wraps everything so that even errors carry it;
/// metrics and the access log see the final status; problems are rendered before them.
public func buildRouter<S: KefuServiceDefinition>(
    _ service: S.Type, shared: S.Shared, resources: ServiceResources, migrated: MigrationState
) async throws -> Router<KefuRequestContext> {
    let router = Router(context: KefuRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: HTTPMetricsMiddleware(registry: resources.metrics))
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: ProblemMiddleware())
    let methodNotAllowed = MethodNotAllowedMiddleware()
    router.add(middleware: methodNotAllowed)
    router.add(middleware: AuthenticationMiddleware(
        verifier: resources.tokenVerifier, revocations: resources.revocations, platformToken: resources.config.platformToken
    ))
    router.add(middleware: IdempotencyMiddleware(database: resources.database, service: resources.service))
    try OperationalRoutes.add(to: router, resources: resources, migrated: migrated, openAPIDocument: S.openAPIDocument)
    try await S.addRoutes(to: router, shared: shared)
    methodNotAllowed.learn(router.routes.map { ($0.path, $0.method) })
    return router
}
