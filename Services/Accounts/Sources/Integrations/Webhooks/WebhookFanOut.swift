import Foundation
import KefuCore
import KefuModels

/// The durable consumer `accounts.webhooks`: each outbox event a webhook may be subscribed to
/// becomes one delivery row per enabled endpoint subscribed to it. The event consumer delivers
/// every event at least once and moves its cursor only past handled batches; the unique
/// (endpoint, event) key makes a second handling a no-op, so each endpoint gets each event once.
///
/// A batch is one transaction per tenant in it, not one per event: a durable commit waits for
/// the disk, and one per event capped the whole platform's deliveries at the disk's flush rate.
struct WebhookFanOut: Sendable {
    let database: Database
    let dispatcher: WebhookDispatcher
    /// Partner channels' outbound messages, to each channel's own endpoint.
    let partnerChannels: PartnerChannelFanOut
    static let deliverable = Set(WebhookEventCatalogue.all)
    /// What the consumer reads: the catalogue, and partner channels' messages.
    static let consumed = deliverable.union([PartnerChannelMessage.eventType])

    func handle(_ events: [StoredEvent]) async throws {
        var byTenant: [TenantID: [StoredEvent]] = [:]
        var tenants: [TenantID] = []
        // Only catalogue events go to subscriptions (a channel's messages go to its own endpoint alone).
        for event in events where Self.deliverable.contains(event.type) {
            if byTenant[event.tenantID] == nil { tenants.append(event.tenantID) }
            byTenant[event.tenantID, default: []].append(event)
        }
        var created = 0
        for tenant in tenants {
            let batch = byTenant[tenant]!
            created += try await database.withTenant(tenant) { tx in try await tx.createDeliveries(for: batch) }
        }
        created += try await partnerChannels.handle(events)
        // This replica sends them at once rather than at its next poll.
        if created > 0 { dispatcher.wake() }
    }
}
