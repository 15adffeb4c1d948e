import Foundation
import Hummingbird
import HummingbirdCore
import ServiceLifecycle

/// What makes one Kefu service different from the others: its name, its routes and its
/// background work. Everything else (database, migrations, middleware, health, metrics,
/// shutdown) comes from `buildApplication`, the same for all five.
public protocol KefuServiceDefinition {
    /// What the service's routes and background work share, built once per process (keys, caches);
    /// by default just the resources.
    associatedtype Shared: Sendable = ServiceResources

    static var name: ServiceName { get }
    /// The service's OpenAPI 3.1 document (its `openapi.json` resource), served at `/openapi.json`.
    static var openAPIDocument: URL? { get }
    /// The migration folders this service applies on start, after `kefu` (default: its own).
    /// A schema that needs another's objects names that folder first (each file is recorded, so
    /// it is applied once whichever service gets there first).
    static var migrationScopes: [String] { get }
    static func makeShared(resources: ServiceResources) async throws -> Shared
    static func addRoutes(to router: Router<KefuRequestContext>, shared: Shared) async throws
    /// Long-running work started with the server (event consumers, timers).
    static func backgroundServices(shared: Shared, resources: ServiceResources) async throws -> [any Service]
    /// The event types of the data this service caches (`TenantCache`): when another process
    /// publishes one, this process's `database.changes` moves for that tenant. None by default.
    static var cachedEventTypes: Set<String> { get }
    /// How connections are served: plain HTTP/1.1 unless the service upgrades some (routing's
    /// WebSockets), so that only the service that needs it links the upgrade code.
    static func server(shared: Shared, resources: ServiceResources) -> HTTPServerBuilder
}

extension KefuServiceDefinition {
    public static var migrationScopes: [String] { [name.schema] }
    public static func backgroundServices(shared: Shared, resources: ServiceResources) async throws -> [any Service] { [] }
    public static func server(shared: Shared, resources: ServiceResources) -> HTTPServerBuilder { .http1() }
    public static var cachedEventTypes: Set<String> { [] }
}

extension KefuServiceDefinition where Shared == ServiceResources {
    public static func makeShared(resources: ServiceResources) async throws -> ServiceResources { resources }
}
