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
}
