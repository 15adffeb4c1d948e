import Crypto
import Foundation
import KefuCore
import KefuModels

/// The durable consumer `routing.channel_outbound`: agent, bot and system messages of channel
/// conversations go out to their channel. Fed from the outbox (`message.created`), so a crash or
/// a restart loses nothing: the cursor passes a message only once it was handed on.
///
/// - Partner channels: published as `channel.message` in a tenant transaction, with the channel's
///   outbound URL and signing secret (sealed) read from reception; accounts' webhook delivery
///   sends it, signed, with its retries and log.
/// - Official accounts: sent through WeChat's customer-service message API (`WeChatOutbound`).
///
/// `routing.channel_deliveries` holds one row per message handed on, written with its effect:
/// a redelivered event finds the row and does nothing again.
struct ChannelOutbound: Sendable {
    let routing: Routing
    let wechat: WeChatOutbound
    let secrets: SecretBox
    static let eventTypes: Set<String> = [MessageCreated.eventType]

    /// The Standard Webhooks secret a partner channel's messages are signed with: `whsec_` +
    /// base64 of SHA-256 of the channel's token (any token makes a full-strength key, and the
    /// partner computes the same from the token it configured).
    static func signingSecret(token: String) -> String {
        WebhookSecret.prefix + Data(SHA256.hash(data: Data(token.utf8))).base64EncodedString()
    }

    struct Target: Sendable {
        let conversation: UUID
        let channel: UUID
        let type: ChannelType
        let externalID: String
    }

    func handle(_ events: [StoredEvent]) async throws {
        var byTenant: [TenantID: [MessageCreated]] = [:]
        var tenants: [TenantID] = []
        for event in events where event.type == MessageCreated.eventType {
            let message = try event.decode(MessageCreated.self)
            // The channel user's own messages came from the channel.
            guard message.sender != .visitor else { continue }
            if byTenant[event.tenantID] == nil { tenants.append(event.tenantID) }
            byTenant[event.tenantID, default: []].append(message)
        }
        for tenant in tenants {
            let messages = byTenant[tenant]!
            let targets = try await routing.database.withTenant(tenant) { tx in
                try await tx.channelTargets(Array(Set(messages.map(\.conversationId.uuid))))
            }
            guard !targets.isEmpty else { continue }
            let partner = messages.filter { targets[$0.conversationId.uuid]?.type == .partner }
            if !partner.isEmpty {
                var endpoints: [UUID: PartnerChannelMessage.Endpoint?] = [:]
                for channel in Set(partner.map { targets[$0.conversationId.uuid]!.channel }) {
                    // A channel deleted or switched off since: its messages are recorded as not sent.
                    let gateway = try await routing.reception.channelGateway(channel, tenant: tenant)
                    if let gateway, gateway.enabled, let url = gateway.outboundUrl, let token = gateway.credentials["token"] {
                        endpoints[channel] = .init(url: url, sealedSecret: try secrets.seal(Self.signingSecret(token: token)))
                    } else {
                        endpoints[channel] = .some(nil)
                    }
                }
                let found = endpoints
                try await routing.database.withTenant(tenant) { tx in
                    for message in partner {
                        let target = targets[message.conversationId.uuid]!
                        try await tx.handOver(message, to: target, endpoint: found[target.channel] ?? nil)
                    }
                }
            }
            for message in messages {
                guard let target = targets[message.conversationId.uuid], target.type == .wechatOfficialAccount else { continue }
                try await wechat.send(message, to: target, tenant: tenant)
            }
        }
    }
}

extension TenantTransaction {
    /// The channel conversations among these, with their channel user.
    func channelTargets(_ conversations: [UUID]) async throws -> [UUID: ChannelOutbound.Target] {
        let rows = try await query("""
            SELECT c.id, c.channel_id, u.channel_type, u.external_id
            FROM routing.conversations c JOIN routing.channel_users u ON u.tenant_id = c.tenant_id AND u.visitor_id = c.visitor_id
            WHERE c.id = ANY (\(conversations)::uuid[]) AND c.channel_id IS NOT NULL
            """)
        var targets: [UUID: ChannelOutbound.Target] = [:]
        for try await (id, channel, type, external) in rows.decode((UUID, UUID, String, String).self) {
            guard let type = ChannelType(rawValue: type) else { continue }
            targets[id] = .init(conversation: id, channel: channel, type: type, externalID: external)
        }
        return targets
    }

    /// A partner channel's message, handed to accounts' webhook delivery (once: the row); with
    /// no endpoint (the channel is off or gone) recorded as failed.
    func handOver(_ message: MessageCreated, to target: ChannelOutbound.Target, endpoint: PartnerChannelMessage.Endpoint?) async throws {
        let inserted = try await query("""
            INSERT INTO routing.channel_deliveries (tenant_id, message_id, conversation_id, channel_id, channel_type, status, reason)
            VALUES (\(tenantID.uuid), \(message.messageId), \(target.conversation), \(target.channel), \(target.type.rawValue),
                    \(endpoint == nil ? "failed" : "handed_over"), \(endpoint == nil ? "the partner channel is switched off or gone" : nil))
            ON CONFLICT DO NOTHING RETURNING 1
            """).collect()
        guard !inserted.isEmpty, let endpoint else { return }
        try await publish(PartnerChannelMessage(channelId: target.channel, endpoint: endpoint, message: .init(
            channelId: target.channel, conversationId: message.conversationId, messageId: message.messageId, seq: message.seq,
            userId: target.externalID, sender: message.sender, senderId: message.senderId, body: message.body,
            automatic: message.automatic, createdAt: message.createdAt
        )))
    }
}
