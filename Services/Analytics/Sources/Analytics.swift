import Foundation
import KefuCore
import KefuModels
import KefuReceptionClient

/// Everything the analytics routes and background work share: built once per process.
public struct Analytics: Sendable {
    public let resources: ServiceResources
    /// Reception's configuration per tenant: the time zone days are cut by, the high-quality definition.
    let reception: ReceptionDirectory
    /// Widget events are anonymous: limited per client address, as routing limits visitor starts.
    let rateLimiter: RateLimiter
    let widgetEventsPerAddress: Int

    var database: Database { resources.database }

    init(resources: ServiceResources) {
        self.resources = resources
        self.reception = ReceptionDirectory(resources: resources)
        self.rateLimiter = RateLimiter(database: resources.database, schema: "analytics")
        self.widgetEventsPerAddress = resources.config.environment["KEFU_WIDGET_EVENT_RATE_LIMIT_PER_ADDRESS"].flatMap(Int.init) ?? 600
    }

    /// The tenant's conversation settings as reception holds them now.
    func settings(of tenant: TenantID) async throws -> ConversationSettings {
        try await reception.snapshot(for: tenant).conversation
    }
}
