import Foundation
import KefuCore
import KefuModels

/// The durable consumer `accounts.webhooks`: each outbox event a webhook may be subscribed to
/// becomes one delivery row per enabled endpoint subscribed to it. The event consumer delivers
/// every event at least once and moves its cursor only past handled events; the unique
/// (endpoint, event) key makes a second handling a no-op, so each endpoint gets each event once.
struct WebhookFanOut: Sendable {
    let database: Database
    let dispatcher: WebhookDispatcher
    static let deliverable = Set(WebhookEventCatalogue.all)

    func handle(_ event: StoredEvent) async throws {
        guard Self.deliverable.contains(event.type) else { return }
        let created = try await database.withTenant(event.tenantID) { tx in try await tx.createDeliveries(for: event) }
        // This replica sends them at once rather than at its next poll.
        if created > 0 { dispatcher.wake() }
    }
}
