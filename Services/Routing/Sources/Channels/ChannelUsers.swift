import Foundation
import KefuCore
import KefuModels

/// Channel users: a partner's user id or a follower's openid is a routing visitor without a
/// widget, one per (channel, external id), and their messages go through the same conversations
/// and messages as a web visitor's.
extension TenantTransaction {
    /// The visitor this channel user is, made the first time (published as `channel_user.seen`,
    /// from which the customer library makes the contact with that identity). `identities` the
    /// channel names for the user are kept; ones not named before are published again with
    /// `channel_user.seen` (the library merges on a strong one). Holds a transaction lock on the
    /// user, so a user's concurrent deliveries are handled one after the other: the second sees
    /// what the first stored (its dedupe row, its conversation, its identities).
    func channelUser(
        channel: UUID, type: ChannelType, externalID: String, identities: [ChannelUserIdentity] = []
    ) async throws -> (visitor: VisitorID, isNew: Bool) {
        try await query("""
            SELECT pg_advisory_xact_lock(hashtextextended('channel_user ' || \(tenantID.uuid)::text || \(channel)::text || \(externalID), 0))
            """)
        if let known = try await query("""
            SELECT visitor_id, identities::text FROM routing.channel_users WHERE channel_id = \(channel) AND external_id = \(externalID)
            """).collect().first {
            let (id, stored) = try known.decode((UUID, String).self)
            let visitor = VisitorID(id)
            let reported = try KefuJSON.decoder().decode([ChannelUserIdentity].self, from: Data(stored.utf8))
            let added = identities.filter { !reported.contains($0) }
            if !added.isEmpty {
                try await query("""
                    UPDATE routing.channel_users SET identities = \(try Self.json(reported + added))::jsonb
                    WHERE channel_id = \(channel) AND external_id = \(externalID)
                    """)
                try await publish(ChannelUserSeen(
                    visitorId: visitor, channelId: channel, channelType: type.rawValue, externalId: externalID, isNew: false, seenAt: Date(),
                    identities: reported + added
                ))
            }
            return (visitor, false)
        }
        let visitor = VisitorID()
        try await query("""
            WITH v AS (
                INSERT INTO routing.visitors (tenant_id, id, widget_id) VALUES (\(tenantID.uuid), \(visitor.uuid), NULL) RETURNING id
            )
            INSERT INTO routing.channel_users (tenant_id, channel_id, external_id, visitor_id, channel_type, identities)
            SELECT \(tenantID.uuid), \(channel), \(externalID), v.id, \(type.rawValue), \(try Self.json(identities))::jsonb FROM v
            """)
        try await publish(ChannelUserSeen(
            visitorId: visitor, channelId: channel, channelType: type.rawValue, externalId: externalID, isNew: true, seenAt: Date(),
            identities: identities
        ))
        return (visitor, true)
    }

    static func json(_ identities: [ChannelUserIdentity]) throws -> String {
        String(decoding: try KefuJSON.encoder().encode(identities), as: UTF8.self)
    }

    /// What an earlier delivery with this key stored, if one did.
    func inboundSeen(channel: UUID, key: String) async throws -> (message: UUID?, conversation: UUID?, reply: String?)? {
        try await query("""
            SELECT message_id, conversation_id, reply FROM routing.channel_inbound WHERE channel_id = \(channel) AND dedupe_key = \(key)
            """).collect().first.map { try $0.decode((UUID?, UUID?, String?).self) }
    }

    /// Marks a delivery handled (with what it stored and answered), in the transaction of its effect.
    func recordInbound(channel: UUID, key: String, message: UUID?, conversation: UUID?, reply: String?) async throws {
        try await query("""
            INSERT INTO routing.channel_inbound (tenant_id, channel_id, dedupe_key, message_id, conversation_id, reply)
            VALUES (\(tenantID.uuid), \(channel), \(key), \(message), \(conversation), \(reply))
            """)
    }

    /// The channel user's live conversation, or a new one placed by the advanced assignment rules
    /// (a channel has no widget) through the same code path as a web visitor's.
    func channelConversation(
        visitor: VisitorID, channel: ConfigItem<Channel>, snapshot: ReceptionSnapshot
    ) async throws -> (ConversationView, created: Bool) {
        if let live = try await conversations(where: "c.visitor_id = \(visitor.uuid) AND c.status <> 'ended'", withTrace: false).first {
            return (live, false)
        }
        let owner = try await query("SELECT owner_id FROM routing.customer_owners WHERE visitor_id = \(visitor.uuid)")
            .collect().first.flatMap { try $0.decode(UUID?.self) }
        var start = ConversationStart(snapshot: snapshot, widget: nil)
        start.channel = channel.document.type.rawValue
        let arrival = ConversationStart.Visitor(attributes: VisitorAttributes(), visitCount: 1, owner: owner)
        return (try await openConversation(visitor: visitor, start: start, arrival: arrival, choice: nil, channelID: channel.id), true)
    }
}

extension Routing {
    /// The tenant's configuration and its channel of this type; a channel the cached
    /// configuration lacks is looked for once more in reception's current one (it may have been
    /// created a moment ago), else 404.
    func channel(_ id: UUID, type: ChannelType, tenant: TenantID) async throws -> (ReceptionSnapshot, ConfigItem<Channel>) {
        let snapshot = try await reception.snapshot(for: tenant) { (try? $0.channel(id, type: type)) != nil }
        return (snapshot, try snapshot.channel(id, type: type))
    }
}

extension ReceptionSnapshot {
    /// The tenant's channel of this type, or 404 (another tenant's id is simply not there).
    func channel(_ id: UUID, type: ChannelType) throws -> ConfigItem<Channel> {
        guard let channel = channels.first(where: { $0.id == id && $0.document.type == type }) else { throw Problem.notFound("channel") }
        return channel
    }
}
