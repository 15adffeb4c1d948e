import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Contacts for channel users (routing's `channel_user.seen`): known by their channel identity
/// and their visitor id, so routing's conversation events find the same customer.
@Suite struct ChannelContactsTests {
    @Test func aFollowerBecomesOneContactKnownByOpenIDWhicheverEventComesFirst() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let channel = UUID()
            // The conversation's event is handled by another consumer: it may make the contact first.
            let early = VisitorID()
            try await h.publish(ConversationCreated(
                conversationId: ConversationID(), visitorId: early, widgetId: nil, channel: "wechat_official_account", createdAt: Date()
            ), in: tenant)
            try await h.publish(ChannelUserSeen(
                visitorId: early, channelId: channel, channelType: "wechat_official_account", externalId: "o-early", isNew: true, seenAt: Date()
            ), in: tenant)
            let late = VisitorID()
            let seen = ChannelUserSeen(visitorId: late, channelId: channel, channelType: "partner", externalId: "user-9", isNew: true, seenAt: Date())
            try await h.publish(seen, in: tenant)
            try await h.publish(seen, in: tenant)
            try #require(try await h.eventually {
                try await TestEnvironment.ownerQuery(
                    "SELECT count(*)::int FROM customers.identities WHERE tenant_id = \(tenant.id.uuid) AND kind IN ('wechat_openid', 'partner')", as: Int.self
                ) == [2]
            }, "the channel identities were not recorded")
            let identities = try await TestEnvironment.ownerQuery("""
                SELECT kind || ' ' || channel || ' ' || external_id || ' ' || customer_id::text FROM customers.identities
                WHERE tenant_id = \(tenant.id.uuid) ORDER BY kind, external_id
                """, as: String.self)
            let customers = Set(identities.map { $0.split(separator: " ").last! })
            #expect(customers.count == 2, "one customer per channel user: \(identities)")
            let channelText = channel.uuidString.lowercased()
            #expect(identities.contains { $0.hasPrefix("wechat_openid \(channelText) o-early ") })
            #expect(identities.contains { $0.hasPrefix("partner \(channelText) user-9 ") })
            #expect(identities.filter { $0.hasPrefix("web_visitor") }.count == 2)
            #expect(try await h.events(CustomerCreated.self, in: tenant).count == 2, "a redelivered event makes no second contact")
        }
    }

    /// A strong identifier a channel names (a phone, a unionid) that another customer holds is
    /// the same person: the contact merges with it, the library's customer surviving. A weaker one
    /// (an email) held elsewhere merges nothing, and neither does anything else alike (a name).
    @Test func aStrongIdentifierFromAChannelMergesTheSamePersonOnly() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let channel = UUID()
            let known = try await h.customer(tenant, ["name": "Li Lei", "phones": [["value": "13800000001"]]])
            let namesake = try await h.customer(tenant, ["name": "Li Lei", "emails": [["value": "li@example.com"]]])
            try #require(try await h.call(.post, "/v1/customers/\(namesake)/identities", token: tenant.admin, json: [
                "kind": "email", "external_id": "li@example.com",
            ]).status == .created)
            let visitor = VisitorID()
            try await h.publish(ChannelUserSeen(
                visitorId: visitor, channelId: channel, channelType: "partner", externalId: "u-7", isNew: true, seenAt: Date()
            ), in: tenant)
            func holders() async throws -> [String] {
                try await TestEnvironment.ownerQuery("""
                    SELECT kind || ' ' || external_id || ' ' || customer_id::text FROM customers.identities
                    WHERE tenant_id = \(tenant.id.uuid) AND kind <> 'web_visitor' ORDER BY kind, external_id
                    """, as: String.self)
            }
            try #require(try await h.eventually { try await holders().contains { $0.hasPrefix("partner u-7 ") } })
            let contact = try #require(try await holders().first { $0.hasPrefix("partner u-7 ") }?.split(separator: " ").last.map(String.init))
            #expect(contact != known && contact != namesake)

            try await h.publish(ChannelUserSeen(
                visitorId: visitor, channelId: channel, channelType: "partner", externalId: "u-7", isNew: false, seenAt: Date(),
                identities: [.init(kind: "email", externalId: "li@example.com"), .init(kind: "phone", externalId: "13800000001"),
                             .init(kind: "qq", externalId: "10001")]
            ), in: tenant)
            try #require(try await h.eventually { try await h.call(.get, "/v1/customers/\(contact)", token: tenant.admin).status == .gone })
            let gone = try await h.call(.get, "/v1/customers/\(contact)", token: tenant.admin)
            #expect(gone.json["merged_into"] as? String == known, "the customer in the library survives")
            #expect(try await holders() == [
                "email li@example.com \(namesake)", "partner u-7 \(known)", "phone 13800000001 \(known)", "qq 10001 \(known)",
            ], "the email stays with whoever held it; the contact's identities and the new QQ are the survivor's")
            let merges = try await h.call(.get, "/v1/customers/\(known)/merges", token: tenant.admin)
            #expect(merges.data.map { $0["reason"] as? String } == ["identity"])
            #expect(try await h.call(.get, "/v1/customers/\(namesake)", token: tenant.admin).status == .ok, "a namesake is never merged")
            let merged = try await h.events(CustomerMerged.self, in: tenant)
            #expect(merged.count == 1 && merged[0].visitorIds.contains(visitor), "routing learns the visitor is the survivor")

            // Two contacts, neither in the library: the one that held the identifier first survives.
            let first = VisitorID(), second = VisitorID()
            for (visitor, user) in [(first, "u-8"), (second, "u-9")] {
                try await h.publish(ChannelUserSeen(
                    visitorId: visitor, channelId: channel, channelType: "partner", externalId: user, isNew: true, seenAt: Date(),
                    identities: [.init(kind: "wechat_unionid", externalId: "union-1")]
                ), in: tenant)
            }
            try #require(try await h.eventually { try await holders().contains { $0.hasPrefix("partner u-9 ") } })
            let survivor = try #require(try await holders().first { $0.hasPrefix("partner u-8 ") }?.split(separator: " ").last.map(String.init))
            #expect(try await holders().filter { $0.hasPrefix("partner u-8 ") || $0.hasPrefix("partner u-9 ") || $0.hasPrefix("wechat_unionid") }
                .allSatisfy { $0.hasSuffix(survivor) })
        }
    }
}
