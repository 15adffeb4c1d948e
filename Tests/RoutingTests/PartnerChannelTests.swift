import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
@testable import Routing
import Testing

/// The partner channel: its users' messages in through `POST /v1/channels/{id}/inbound/messages`
/// (an API key), agents' answers out to the channel's URL through accounts' webhook delivery.
@Suite struct PartnerChannelTests {
    static let token = "partner-token-1234"

    func partnerChannel(_ h: RoutingHarness, _ tenant: RoutingHarness.Tenant, url: String = "https://partner.example/kefu", enabled: Bool = true) async throws -> String {
        let created = try await h.reception.call(.post, "/v1/channels", token: tenant.admin, json: [
            "name": "P" + UUID().uuidString.prefix(6), "type": "partner", "enabled": enabled, "outbound_url": url,
            "credentials": ["token": Self.token],
        ])
        try #require(created.status == .created, "\(created.text)")
        return created.id!
    }

    /// An agent online in a group: a channel conversation (no widget, no rules) goes to every group.
    func onlineAgent(_ h: RoutingHarness, _ tenant: RoutingHarness.Tenant) async throws -> RoutingHarness.Agent {
        let agent = try await h.agent(in: tenant)
        _ = try await h.groupWidget(in: tenant, members: [agent])
        try await h.online(agent)
        return agent
    }

    func inbound(_ h: RoutingHarness, _ channel: String, token: String, user: String = "user-1", id: String, text: String = "Hello") async throws -> APIReply {
        try await h.routing.call(.post, "/v1/channels/\(channel)/inbound/messages", token: token, json: [
            "user_id": user, "client_message_id": id, "body": ["type": "text", "text": text],
        ])
    }

    @Test func aPartnersUserStartsOneConversationAndRetriesStoreOnce() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await onlineAgent(h, tenant)
            let channel = try await partnerChannel(h, tenant)
            let key = try await TestKeys.shared.apiKeyToken(tenant: tenant.id, permissions: [.receptionChannels])

            let first = try await inbound(h, channel, token: key, id: "m-1")
            #expect(first.status == .created, "\(first.text)")
            let conversation = try #require(first.json["conversation"] as? [String: Any])
            let message = try #require(first.json["message"] as? [String: Any])
            #expect(conversation["channel"] as? String == "partner")
            #expect(conversation["status"] as? String == "open")
            #expect((conversation["agent"] as? [String: Any])?["id"] as? String == agent.id.description)
            #expect(message["sender"] as? String == "visitor")

            let retried = try await inbound(h, channel, token: key, id: "m-1")
            #expect(retried.status == .ok, "a retry stores nothing twice")
            #expect((retried.json["message"] as? [String: Any])?["id"] as? String == message["id"] as? String)
            let second = try await inbound(h, channel, token: key, id: "m-2", text: "Still there?")
            #expect(second.status == .created)
            #expect((second.json["conversation"] as? [String: Any])?["id"] as? String == conversation["id"] as? String)
            #expect((second.json["message"] as? [String: Any])?["seq"] as? Int == 2)
            // Another user of the partner is another visitor and conversation.
            let other = try await inbound(h, channel, token: key, user: "user-2", id: "m-1")
            #expect(other.status == .created)
            #expect((other.json["conversation"] as? [String: Any])?["id"] as? String != conversation["id"] as? String)

            let events = try await TestEnvironment.ownerQuery(
                "SELECT type FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type IN ('channel_user.seen', 'conversation.created', 'message.created') ORDER BY id",
                as: String.self
            )
            #expect(events == ["channel_user.seen", "conversation.created", "message.created", "message.created",
                               "channel_user.seen", "conversation.created", "message.created"])
            let seen = try await TestEnvironment.ownerQuery(
                "SELECT payload->>'external_id' || ' ' || (payload->>'channel_type') FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = 'channel_user.seen' ORDER BY id",
                as: String.self
            )
            #expect(seen == ["user-1 partner", "user-2 partner"])
        }
    }

    /// A partner may say what else it knows its user as (a phone, an email…): routing keeps it
    /// and tells the customer library once per new identity, not once per message.
    @Test func aPartnerNamesItsUsersOtherIdentitiesOnce() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            _ = try await onlineAgent(h, tenant)
            let channel = try await partnerChannel(h, tenant)
            let key = try await TestKeys.shared.apiKeyToken(tenant: tenant.id, permissions: [.receptionChannels])
            func send(_ id: String, _ identities: [[String: Any]]) async throws -> APIReply {
                try await h.routing.call(.post, "/v1/channels/\(channel)/inbound/messages", token: key, json: [
                    "user_id": "u-7", "client_message_id": id, "body": ["type": "text", "text": "Hi"], "identities": identities,
                ])
            }
            let refused = try await send("m-0", [["kind": "partner", "external_id": "x"], ["kind": "phone", "external_id": " "]])
            #expect(refused.status == .unprocessableContent && refused.fields == ["identities[0].kind", "identities[1].external_id"], "\(refused.text)")
            #expect(try await send("m-1", [["kind": "phone", "external_id": "13800000001"]]).status == .created)
            #expect(try await send("m-2", [["kind": "phone", "external_id": "13800000001"]]).status == .created)
            #expect(try await send("m-3", [["kind": "email", "external_id": "Li@Example.com"], ["kind": "phone", "external_id": "13800000001"]])
                .status == .created)
            let seen = try await TestEnvironment.ownerQuery("""
                SELECT (payload->>'is_new') || ' ' || (payload->'identities')::text FROM kefu.events
                WHERE tenant_id = \(tenant.id.uuid) AND type = 'channel_user.seen' ORDER BY id
                """, as: String.self)
            #expect(seen == [
                #"true [{"kind": "phone", "external_id": "13800000001"}]"#,
                #"false [{"kind": "phone", "external_id": "13800000001"}, {"kind": "email", "external_id": "li@example.com"}]"#,
            ], "the refused message stored nothing; a repeated identity publishes nothing")
        }
    }

    @Test func onlyTheTenantsPartnerAPIKeyReachesItsChannel() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let channel = try await partnerChannel(h, tenant)
            let off = try await partnerChannel(h, tenant, enabled: false)
            let key = try await TestKeys.shared.apiKeyToken(tenant: tenant.id, permissions: [.receptionChannels])

            let employee = try await TestKeys.shared.token(tenant: tenant.id, permissions: [.receptionChannels])
            #expect(try await inbound(h, channel, token: employee, id: "x").code == "api_key_required")
            let without = try await TestKeys.shared.apiKeyToken(tenant: tenant.id, permissions: [.clientLogin])
            #expect(try await inbound(h, channel, token: without, id: "x").status == .forbidden)
            #expect(try await inbound(h, channel, token: "nonsense", id: "x").status == .unauthorized)
            // Another tenant's key does not find the channel, whatever id it sends.
            let foreign = try await TestKeys.shared.apiKeyToken(tenant: other.id, permissions: [.receptionChannels])
            #expect(try await inbound(h, channel, token: foreign, id: "x").status == .notFound)
            #expect(try await inbound(h, UUID().uuidString, token: key, id: "x").status == .notFound)
            #expect(try await inbound(h, off, token: key, id: "x").code == "channel_disabled")
            let bad = try await h.routing.call(.post, "/v1/channels/\(channel)/inbound/messages", token: key, json: [
                "user_id": "", "client_message_id": "has space", "body": ["type": "text", "text": "x"],
            ])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.fields == ["user_id"] || bad.fields == ["client_message_id"])
            let count = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM routing.channel_users WHERE tenant_id IN (\(tenant.id.uuid), \(other.id.uuid))", as: Int.self
            )
            #expect(count == [0], "refused messages create nothing")
        }
    }

    /// Accounts as it runs beside routing: its fan-out consumer and dispatcher deliver the channel's messages.
    func withAccounts(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let config = try await TestEnvironment.config(for: .accounts)
        let app = try await buildApplication(AccountsService.self, config: config, logger: TestEnvironment.logger)
        try await app.test(.router) { try await body($0) }
    }

    /// A tenant accounts knows (a channel's endpoint row belongs to one), with routing's admin token.
    func accountsTenant(_ accounts: any TestClientProtocol) async throws -> RoutingHarness.Tenant {
        let slug = "p-" + UUID().uuidString.prefix(10).lowercased()
        let created = try await accounts.call(.post, "/v1/platform/tenants", token: TestEnvironment.platformToken, json: [
            "slug": slug, "name": "Partner \(slug)", "seat_limit": 10,
            "admin": ["account": "admin", "password": "Secret123", "display_name": "Admin", "phone": "139" + String(Int.random(in: 10_000_000...99_999_999))],
        ])
        try #require(created.status == .created, "\(created.text)")
        let id = TenantID(UUID(uuidString: (created.json["tenant"] as! [String: Any])["id"] as! String)!)
        return RoutingHarness.Tenant(id: id, admin: try await TestKeys.shared.token(tenant: id, permissions: RoutingHarness.adminPermissions))
    }

    @Test func agentsAnswersReachThePartnerAsSignedWebhooksRetriedUnderOneID() async throws {
        try await withWebhookReceiver { base, receiver in
            try await RoutingHarness.run { h in
                try await withAccounts { accounts in
                    let tenant = try await accountsTenant(accounts)
                    let agent = try await onlineAgent(h, tenant)
                    let channel = try await partnerChannel(h, tenant, url: base + "/partner")
                    let key = try await TestKeys.shared.apiKeyToken(tenant: tenant.id, permissions: [.receptionChannels])
                    let started = try await inbound(h, channel, token: key, user: "u-7", id: "m-1")
                    let conversation = try #require((started.json["conversation"] as? [String: Any])?["id"] as? String, "\(started.text)")

                    await receiver.script("/partner", [.init(.internalServerError), .init(.internalServerError)])
                    let answer = try await h.routing.call(.post, "/v1/conversations/\(conversation)/messages", token: agent.token, json: [
                        "client_message_id": "a-1", "body": ["type": "text", "text": "How can I help?"],
                    ])
                    #expect(answer.status == .created)
                    let requests = try await receiver.waitFor(3, at: "/partner")
                    #expect(Set(requests.map { $0.header("webhook-id") }).count == 1, "one webhook-id across retries")
                    let secret = try #require(WebhookSecret(ChannelOutbound.signingSecret(token: Self.token)))
                    for request in requests {
                        let id = try #require(request.header("webhook-id"))
                        let timestamp = try #require(request.header("webhook-timestamp").flatMap(Int.init))
                        #expect(request.header("webhook-signature") == secret.signature(id: id, timestamp: timestamp, body: request.body))
                    }
                    let payload = try #require(try JSONSerialization.jsonObject(with: requests[0].body) as? [String: Any])
                    #expect(payload["type"] as? String == "channel.message")
                    let data = try #require(payload["data"] as? [String: Any])
                    #expect(data["user_id"] as? String == "u-7")
                    #expect(data["conversation_id"] as? String == conversation)
                    #expect((data["body"] as? [String: Any])?["text"] as? String == "How can I help?")
                    #expect(data["endpoint"] == nil, "the endpoint and its secret stay in Kefu")
                    #expect(!String(decoding: requests[0].body, as: UTF8.self).contains("sealed"))

                    // The visitor's own messages are not sent back to the partner.
                    _ = try await inbound(h, channel, token: key, user: "u-7", id: "m-2")
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(await receiver.requests(to: "/partner").count == 3)
                    let deliveries = try await h.routing.call(.get, "/v1/conversations/\(conversation)/channel-deliveries", token: agent.token)
                    #expect(deliveries.data.map { $0["status"] as? String } == ["handed_over"])
                    // The channel's delivery log is accounts' webhook log, under the channel's id.
                    let log = try await TestEnvironment.ownerQuery(
                        "SELECT status FROM accounts.webhook_deliveries WHERE tenant_id = \(tenant.id.uuid) AND webhook_id = \(UUID(uuidString: channel)!)",
                        as: String.self
                    )
                    #expect(log == ["succeeded"])
                }
            }
        }
    }
}
