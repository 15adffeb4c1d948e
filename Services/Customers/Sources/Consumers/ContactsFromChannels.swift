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
            let customer: UUID
            switch (byChannel, byVisitor) {
            case (.some(let known), .some):
                customer = known
            case (.some(let known), nil):
                customer = known
                try await tx.addIdentity(visitor, to: customer)
            case (nil, .some(let known)):
                customer = known
                try await tx.addIdentity(identity, to: customer)
            case (nil, nil):
                customer = UUID()
                try await tx.insertCustomer(customer, Profile(), entered: false, owner: nil, team: nil)
                try await tx.addIdentity(identity, to: customer)
                try await tx.addIdentity(visitor, to: customer)
                try await tx.publish(CustomerCreated(customerId: customer, entered: false, by: nil))
            }
            try await tx.recognise(seen.identities ?? [], as: customer)
        }
    }
}

extension TenantTransaction {
    /// Gives a channel user's contact the other identities its channel named. One nobody holds is
    /// added; a strong one (phone, unionid) another customer holds is the same person, and the two
    /// merge (reason `identity`): the customer in the library survives, or, both in or both out,
    /// the one that held the identifier first. Any other kind held elsewhere stays there — never a
    /// merge by guesswork.
    func recognise(_ named: [ChannelUserIdentity], as contact: UUID) async throws {
        var v = Validation()
        let identities = Identities.check(named.map { .init(kind: $0.kind, channel: nil, externalId: $0.externalId) }, &v)
        var customer = contact
        for identity in identities {
            switch try await self.customer(known: identity) {
            case nil:
                try await addIdentity(identity, to: customer)
                try await publish(CustomerUpdated(customerId: customer, fields: ["identities"], by: nil))
            case customer?:
                continue
            case let holder? where Identities.strong.contains(identity.kind):
                let both = try await customers(where: "c.id = ANY(\([customer, holder])::uuid[])", limit: 2)
                let contactEntered = both.first { $0.id == customer }?.entered ?? false
                let holderEntered = both.first { $0.id == holder }?.entered ?? false
                let survivor = contactEntered && !holderEntered ? customer : holder
                let loser = survivor == holder ? customer : holder
                _ = try await merge([loser], into: survivor, reach: .everyone, reason: "identity", by: nil)
                customer = survivor
            case .some:
                continue
            }
        }
    }

    func customer(known identity: CustomerView.Identity) async throws -> UUID? {
        try await query("""
            SELECT customer_id FROM customers.identities
            WHERE kind = \(identity.kind) AND channel = \(identity.channel ?? "") AND external_id = \(identity.externalId)
            """).collect().first.map { try $0.decode(UUID.self) }
    }
}
