import Foundation
import KefuCore
import KefuModels

/// Contacts for channel users (durable consumer `customers.channel_contacts`): a partner's user
/// or an official account's follower (routing's `channel_user.seen`) is a contact known by that
/// identity within its channel (`partner` / `wechat_openid`, channel = the channel's id) and by
/// the visitor id routing gave them (`web_visitor`), through which routing's other events (the
/// conversations) find the same customer.
///
/// Another consumer (`customers.contacts`) may meet the visitor first, through its
/// conversation, and make a contact known only by the visitor id: this one then adds the
/// channel identity to it. Should both make one at once, the identity's unique key refuses the
/// second and the retry finds the first.
struct ContactsFromChannels {
    let database: Database
    static let eventTypes: Set<String> = [ChannelUserSeen.eventType]

    func handle(_ event: StoredEvent) async throws {
        guard event.type == ChannelUserSeen.eventType else { return }
        let seen = try event.decode(ChannelUserSeen.self)
        let kind = seen.channelType == ChannelType.partner.rawValue ? "partner" : "wechat_openid"
        let identity = CustomerView.Identity(kind: kind, channel: seen.channelId.uuidString.lowercased(), externalId: seen.externalId)
        let visitor = CustomerView.Identity(kind: "web_visitor", channel: nil, externalId: seen.visitorId.description)
        try await database.withTenant(event.tenantID) { tx in
            let byChannel = try await tx.customer(known: identity)
            let byVisitor = try await tx.customer(known: visitor)
            switch (byChannel, byVisitor) {
            case (.some, .some):
                return
            case (.some(let customer), nil):
                try await tx.addIdentity(visitor, to: customer)
            case (nil, .some(let customer)):
                try await tx.addIdentity(identity, to: customer)
            case (nil, nil):
                let id = UUID()
                try await tx.insertCustomer(id, Profile(), entered: false, owner: nil, team: nil)
                try await tx.addIdentity(identity, to: id)
                try await tx.addIdentity(visitor, to: id)
                try await tx.publish(CustomerCreated(customerId: id, entered: false, by: nil))
            }
        }
    }
}

extension TenantTransaction {
    func customer(known identity: CustomerView.Identity) async throws -> UUID? {
        try await query("""
            SELECT customer_id FROM customers.identities
            WHERE kind = \(identity.kind) AND channel = \(identity.channel ?? "") AND external_id = \(identity.externalId)
            """).collect().first.map { try $0.decode(UUID.self) }
    }
}
