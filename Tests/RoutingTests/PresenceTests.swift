import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Presence (issue 11): an agent whose last socket closed — on every replica — goes offline after
/// the grace period; a socket opening anywhere within it keeps them online.
@Suite(.serialized) struct PresenceTests {
    func status(_ h: RoutingHarness, _ agent: RoutingHarness.Agent) async throws -> String? {
        try await h.routing.call(.get, "/v1/agents/me/state", token: agent.token).string("status")
    }

    @Test func theLastSocketClosingAnywhereTakesTheAgentOfflineAfterTheGrace() async throws {
        try await RoutingHarness.run(replicas: 2, live: true, environment: ["KEFU_PRESENCE_GRACE_SECONDS": "2"]) { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            try await h.online(agent)
            try await h.socket(on: 0, agent: agent.token) { _ in
                // A second socket, on the other replica, comes and goes: one is still open.
                try await h.socket(on: 1, agent: agent.token) { _ in try await Task.sleep(for: .milliseconds(300)) }
                try await Task.sleep(for: .seconds(3))
                #expect(try await status(h, agent) == "online", "a socket is still open on replica 0")
            }
            // Closed, then back on the other replica within the grace: still online.
            try await Task.sleep(for: .milliseconds(500))
            try await h.socket(on: 1, agent: agent.token) { _ in
                try await Task.sleep(for: .seconds(3))
                #expect(try await status(h, agent) == "online", "the reconnect cancelled the grace period")
            }
            // Every socket closed: offline once the grace has passed, and said so.
            #expect(try await status(h, agent) == "online")
            #expect(try await h.eventually { try await status(h, agent) == "offline" })
            let changes = try await TestEnvironment.ownerQuery("""
                SELECT payload->>'status' FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = 'agent.state_changed' ORDER BY id
                """, as: String.self)
            #expect(changes == ["online", "offline"])
        }
    }

    /// A replica that died closed nothing: its rows go stale, and a live replica's sweep starts
    /// the grace period its agents are owed — while an agent whose socket is on a live replica
    /// stays online.
    @Test func anAgentWhoseReplicaDiedGoesOfflineAfterTheGrace() async throws {
        let environment = ["KEFU_PRESENCE_GRACE_SECONDS": "2", "KEFU_PRESENCE_HEARTBEAT_SECONDS": "1"]
        try await RoutingHarness.run(replicas: 1, live: true, environment: environment) { h in
            let tenant = try await h.tenant()
            let stranded = try await h.agent(in: tenant, name: "Stranded")
            let connected = try await h.agent(in: tenant, name: "Connected")
            try await h.online(stranded)
            try await h.online(connected)
            // The dead replica's row, as its last heartbeat left it a while ago.
            _ = try await TestEnvironment.ownerQuery("""
                INSERT INTO routing.agent_sockets (tenant_id, employee_id, replica, sockets, seen_at)
                VALUES (\(tenant.id.uuid), \(stranded.id.uuid), \(UUID()), 1, now() - interval '10 minutes') RETURNING 1
                """, as: Int.self)
            try await h.socket(on: 0, agent: connected.token) { _ async throws in
                #expect(try await h.eventually { try await status(h, stranded) == "offline" })
                #expect(try await status(h, connected) == "online", "its socket is on a live replica")
            }
            let left = try await TestEnvironment.ownerQuery("""
                SELECT count(*)::int FROM routing.agent_sockets WHERE tenant_id = \(tenant.id.uuid) AND employee_id = \(stranded.id.uuid)
                """, as: Int.self)
            #expect(left == [0], "the dead replica's row is swept")
        }
    }
}

/// 挂起 (issue 11): a customer meant for a suspended agent gets that agent's automatic reply.
@Suite struct SuspendedReplyTests {
    @Test func aCustomerMeantForASuspendedAgentGetsTheirAutomaticReply() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let widget = try await h.reception.call(.post, "/v1/widgets", token: tenant.admin, json: [
                "name": "Solo", "style": "icon", "colour": "#12AB34", "pre_assignment_messages": [String](),
                "guide_rules_enabled": false, "reception": ["mode": "agent", "agent_id": agent.id.description],
                "mount_positions": [[String: Any]](), "extra_entries": [[String: Any]](),
            ])
            try #require(widget.status == .created, "\(widget.text)")
            let tooLong = try await h.routing.call(.put, "/v1/agents/me/state", token: agent.token, json: ["suspended_reply": String(repeating: "x", count: 501)])
            #expect(tooLong.status == .unprocessableContent && tooLong.text.contains("suspended_reply"), "\(tooLong.text)")
            let set = try await h.routing.call(.put, "/v1/agents/me/state", token: agent.token, json: [
                "status": "suspended", "suspended_reply": "  Back in five minutes.  ",
            ])
            #expect(set.status == .ok && set.string("status") == "suspended" && set.string("suspended_reply") == "Back in five minutes.", "\(set.text)")

            let visitor = try await h.visitor(widget.string("public_key")!)
            let conversation = try await h.start(visitor)
            let messages = try await h.routing.call(.get, "/v1/visitor/conversations/\(conversation.id!)/messages", token: visitor.token)
            let texts = messages.data.compactMap { ($0["body"] as? [String: Any])?["text"] as? String }
            #expect(texts == ["Back in five minutes."], "\(messages.text)")
            #expect(messages.data.first?["automatic"] as? Bool == true && messages.data.first?["sender"] as? String == "system")

            // Removed: the next customer gets nothing from them.
            let cleared = try await h.routing.call(.put, "/v1/agents/me/state", token: agent.token, json: ["suspended_reply": ""])
            #expect(cleared.status == .ok && cleared.json["suspended_reply"] == nil, "\(cleared.text)")
            let next = try await h.visitor(widget.string("public_key")!)
            let quiet = try await h.routing.call(.get, "/v1/visitor/conversations/\(try await h.start(next).id!)/messages", token: next.token)
            #expect(quiet.data.isEmpty, "\(quiet.text)")
        }
    }
}
