import Foundation
import Hummingbird
import KefuCore
import KefuModels
import ServiceLifecycle

/// The analytics service (DOMAIN.md §5, definitions in docs/ANALYTICS.md): conversation records
/// and quality, per-agent analysis, conversation and widget analysis, live monitoring, and every
/// table as CSV. Its tables are filled only by the durable consumer `analytics.facts` from
/// routing's, accounts' and the customer library's events, plus the embed script's widget events;
/// reception's snapshot gives each tenant's time zone and high-quality definition.
public enum AnalyticsService: KefuServiceDefinition {
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    public static let name = ServiceName.analytics
    /// Message search uses pg_trgm, which the customer library's migrations create in its schema
    /// (a database holds one copy of an extension): on a fresh cluster analytics may start first,
    /// so it applies that folder before its own.
    public static let migrationScopes = ["customers", "analytics"]

    public static func makeShared(resources: ServiceResources) async throws -> Analytics {
        Analytics(resources: resources)
    }

    public static func addRoutes(to router: Router<KefuRequestContext>, shared analytics: Analytics) async throws {
        RecordsController(analytics: analytics).addRoutes(to: router)
        AgentsController(analytics: analytics).addRoutes(to: router)
        SessionsController(analytics: analytics).addRoutes(to: router)
        WidgetsController(analytics: analytics).addRoutes(to: router)
        MonitorController(analytics: analytics).addRoutes(to: router)
    }

    public static func backgroundServices(shared analytics: Analytics, resources: ServiceResources) async throws -> [any Service] {
        let directory = analytics.reception
        return [
            try resources.eventConsumer(name: "analytics.facts", types: FactsFromEvents.eventTypes, batchHandler: FactsFromEvents(database: resources.database).handle),
            // Every process hears of every tenant's new reception version (time zone, high-quality definition).
            try resources.eventConsumer(
                name: "analytics.reception:\(UUID().uuidString.lowercased())", types: [ReceptionConfigChanged.eventType],
                mode: .everyProcess(replaying: .seconds(60))
            ) { event in
                directory.announce(event.tenantID, version: try event.decode(ReceptionConfigChanged.self).version)
            },
        ]
    }
}
