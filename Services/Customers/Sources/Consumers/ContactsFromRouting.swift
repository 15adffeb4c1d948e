import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Builds contacts from routing's events (durable consumer `customers.contacts`): a visitor seen
/// for the first time becomes a contact known by its web-visitor identity; each conversation
/// counts once towards the customer's reception count (a `customers.receptions` row per
/// conversation), so a redelivered event changes nothing.
struct ContactsFromRouting {
    let database: Database

    static let eventTypes: Set<String> = [
        VisitorSeen.eventType, ConversationCreated.eventType, VisitorPageViewed.eventType, VisitorMenuClicked.eventType,
        ConversationEnded.eventType,
    ]

    func handle(_ event: StoredEvent) async throws {
        switch event.type {
        case VisitorSeen.eventType:
            let seen = try event.decode(VisitorSeen.self)
            try await database.withTenant(event.tenantID) { tx in
                let customer = try await tx.contact(for: seen.visitorId, attributes: seen.attributes)
                try await tx.query("""
                    UPDATE customers.customers SET visit_count = greatest(visit_count, \(seen.visitCount)),
                        last_seen_at = greatest(last_seen_at, \(seen.seenAt))
                    WHERE id = \(customer)
                    """)
                try await tx.rememberVisit(of: customer, seen.attributes)
                try await tx.applyRules(to: customer)
            }
        case ConversationCreated.eventType:
            let created = try event.decode(ConversationCreated.self)
            try await database.withTenant(event.tenantID) { tx in
                let customer = try await tx.contact(for: created.visitorId, attributes: [:])
                let inserted = try await tx.query("""
                    INSERT INTO customers.receptions (tenant_id, conversation_id, customer_id, channel, started_at)
                    VALUES (\(tx.tenantID.uuid), \(created.conversationId.uuid), \(customer), \(created.channel), \(created.createdAt))
                    ON CONFLICT DO NOTHING RETURNING conversation_id
                    """).decode(UUID.self).reduce(into: 0) { count, _ in count += 1 }
                guard inserted == 1 else { return }
                let rows = try await tx.query("""
                    UPDATE customers.customers SET reception_count = reception_count + 1,
                        last_reception_at = greatest(last_reception_at, \(created.createdAt))
                    WHERE id = \(customer) RETURNING reception_count, last_reception_at
                    """)
                for try await (count, last) in rows.decode((Int, Date?).self) {
                    try await tx.publish(CustomerReceptionRecorded(customerId: customer, receptionCount: count, lastReceptionAt: last))
                }
                try await tx.rememberVisit(of: customer, ["channel": created.channel])
                try await tx.applyRules(to: customer)
            }
        case VisitorPageViewed.eventType:
            let view = try event.decode(VisitorPageViewed.self)
            try await database.withTenant(event.tenantID) { tx in
                let customer = try await tx.contact(for: view.visitorId, attributes: [:])
                try await tx.query("""
                    INSERT INTO customers.page_views (tenant_id, id, customer_id, url, title, referrer, viewed_at)
                    VALUES (\(tx.tenantID.uuid), \(Self.id(of: event)), \(customer), \(view.url), \(view.title), \(view.referrer), \(view.viewedAt))
                    ON CONFLICT DO NOTHING
                    """)
            }
        case VisitorMenuClicked.eventType:
            let click = try event.decode(VisitorMenuClicked.self)
            try await database.withTenant(event.tenantID) { tx in
                let customer = try await tx.contact(for: click.visitorId, attributes: [:])
                try await tx.query("""
                    INSERT INTO customers.menu_clicks (tenant_id, id, customer_id, channel_id, key, name, clicked_at)
                    VALUES (\(tx.tenantID.uuid), \(Self.id(of: event)), \(customer), \(click.channelId), \(click.key), \(click.name), \(click.clickedAt))
                    ON CONFLICT DO NOTHING
                    """)
            }
        case ConversationEnded.eventType:
            let ended = try event.decode(ConversationEnded.self)
            try await database.withTenant(event.tenantID) { tx in
                try await tx.query("""
                    UPDATE customers.receptions SET ended_at = \(ended.endedAt) WHERE conversation_id = \(ended.conversationId.uuid) AND ended_at IS NULL
                    """)
            }
        default:
            return
        }
    }
}

extension ContactsFromRouting {
    /// A row id derived from the event's outbox id (unique across the outbox): a redelivered
    /// event writes the same row, which is already there.
    static func id(of event: StoredEvent) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-4000-8000-%012llx", UInt64(event.id)))!
    }
}

extension TenantTransaction {
    /// The customer known as this web visitor, made a contact (not entered, company pool) the
    /// first time, with where the page said the visitor came from.
    func contact(for visitor: VisitorID, attributes: [String: String]) async throws -> UUID {
        let known = try await query("""
            SELECT customer_id FROM customers.identities WHERE kind = 'web_visitor' AND channel = '' AND external_id = \(visitor.description)
            """).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }
        if let customer = known.first { return customer }
        let id = UUID()
        var profile = Profile()
        profile.region = attributes["region"].flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
        profile.source = attributes["source"].flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
        try await insertCustomer(id, profile, entered: false, owner: nil, team: nil)
        try await addIdentity(.init(kind: "web_visitor", channel: nil, externalId: visitor.description), to: id)
        try await publish(CustomerCreated(customerId: id, entered: false, by: nil))
        return id
    }
}
