import Foundation
import KefuCore
import KefuModels

/// A partner channel's outgoing messages (`channel.message`, published by routing for each agent
/// or system message of the channel's conversations) become deliveries to the channel's own
/// endpoint: the webhook row with the channel's id, carrying the URL and signing secret the
/// event hands on (routing read them from reception). Everything after that is webhook delivery
/// as for any endpoint: signed (Standard Webhooks), retried on the schedule, logged
/// (`GET /v1/webhooks/{channel_id}/deliveries`), 410 disabling it.
///
/// The row is brought in step with each batch's newest URL and secret, so a changed URL or token
/// applies to the channel's next messages and to those still waiting. Its `event_types` hold only
/// `channel.message`, which no subscription can name (it is not in the catalogue), and its
/// deliveries are made here alone: a channel's messages reach its own endpoint and no other.
struct PartnerChannelFanOut: Sendable {
    let database: Database
    let secrets: SecretBox

    /// Returns how many deliveries were created.
    func handle(_ events: [StoredEvent]) async throws -> Int {
        var created = 0
        var byTenant: [TenantID: [(StoredEvent, PartnerChannelMessage)]] = [:]
        var tenants: [TenantID] = []
        for event in events where event.type == PartnerChannelMessage.eventType {
            if byTenant[event.tenantID] == nil { tenants.append(event.tenantID) }
            byTenant[event.tenantID, default: []].append((event, try event.decode(PartnerChannelMessage.self)))
        }
        for tenant in tenants {
            let batch = byTenant[tenant]!
            var channels: [UUID] = []
            var byChannel: [UUID: [(StoredEvent, PartnerChannelMessage)]] = [:]
            for item in batch {
                if byChannel[item.1.channelId] == nil { channels.append(item.1.channelId) }
                byChannel[item.1.channelId, default: []].append(item)
            }
            let (order, grouped) = (channels, byChannel)
            created += try await database.withTenant(tenant) { tx in
                var count = 0
                for channel in order {
                    let items = grouped[channel]!
                    let newest = items.last!.1.endpoint
                    try await tx.keepChannelEndpoint(channel, url: newest.url, secret: try secrets.open(newest.sealedSecret), secrets: secrets)
                    count += try await tx.createChannelDeliveries(channel, for: items)
                }
                return count
            }
        }
        return created
    }
}

extension TenantTransaction {
    /// The channel's endpoint row, created or brought in step (URL, secret).
    func keepChannelEndpoint(_ channel: UUID, url: String, secret: String, secrets: SecretBox) async throws {
        let current = try await query("SELECT url, sealed_secret FROM accounts.webhooks WHERE channel_id = \(channel) FOR UPDATE")
            .collect().first.map { try $0.decode((String, String).self) }
        if let (storedURL, sealed) = current {
            guard storedURL != url || (try? secrets.open(sealed)) != secret else { return }
            try await query("""
                UPDATE accounts.webhooks SET url = \(url), sealed_secret = \(try secrets.seal(secret)), updated_at = now()
                WHERE channel_id = \(channel)
                """)
            return
        }
        // Only for a tenant accounts knows (every real one): an event of any other would otherwise
        // fail the foreign key and hold up every endpoint's deliveries behind it.
        try await query("""
            INSERT INTO accounts.webhooks (tenant_id, id, url, event_types, sealed_secret, enabled, description, channel_id)
            SELECT t.tenant_id, \(channel), \(url), \([PartnerChannelMessage.eventType]), \(try secrets.seal(secret)), true,
                   'Partner channel: outgoing messages', \(channel)
            FROM accounts.tenants t WHERE t.tenant_id = \(tenantID.uuid)
            ON CONFLICT DO NOTHING
            """)
    }

    /// One delivery per message to the channel's endpoint (idempotent per event, as for every
    /// endpoint), its body the message alone: the endpoint part stays in Kefu.
    func createChannelDeliveries(_ channel: UUID, for items: [(StoredEvent, PartnerChannelMessage)]) async throws -> Int {
        let encoder = KefuJSON.encoder()
        let bodies = try items.map { event, message in
            WebhookBody.make(type: event.type, timestamp: event.createdAt, data: String(decoding: try encoder.encode(message.message), as: UTF8.self))
        }
        let rows = try await query("""
            INSERT INTO accounts.webhook_deliveries (tenant_id, id, webhook_id, event_id, event_type, body, next_attempt_at)
            SELECT w.tenant_id, gen_random_uuid(), w.id, e.id, e.type, e.body, now()
            FROM unnest(\(items.map(\.0.id))::bigint[], \(items.map(\.0.type))::text[], \(bodies)::text[]) AS e (id, type, body)
            JOIN accounts.webhooks w ON w.channel_id = \(channel)
            ORDER BY e.id
            ON CONFLICT (tenant_id, webhook_id, event_id) DO NOTHING
            RETURNING 1
            """)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }
}
