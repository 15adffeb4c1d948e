import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// "Leave a message" (issue 11): a visitor no agent could take waits in `awaiting_message` for
/// the group they were meant for; that group's agents see and read it, and one picks it up.
@Suite struct PickUpTests {
    /// A tenant whose fallback asks for a message, a group of `members` (limit 1) and a widget.
    func leaveMessageSetup(_ h: RoutingHarness, members: [RoutingHarness.Agent], tenant: RoutingHarness.Tenant) async throws -> String {
        let fallback = try await h.reception.call(.put, "/v1/reception/fallback", token: tenant.admin, json: [
            "mode": "leave_message", "queue": ["enabled": false, "max_length": 5, "max_wait_seconds": 60],
            "leave_message_prompt": "Leave us a message",
        ])
        try #require(fallback.status == .ok, "\(fallback.text)")
        return try await h.groupWidget(in: tenant, members: members, limit: 1).key
    }

    func waiting(_ h: RoutingHarness, _ agent: RoutingHarness.Agent) async throws -> [String] {
        let reply = try await h.routing.call(.get, "/v1/conversations?view=waiting", token: agent.token)
        try #require(reply.status == .ok, "\(reply.text)")
        return reply.data.compactMap { $0["id"] as? String }
    }

    @Test func theGroupsAgentsSeeALeftMessageAndOnePicksItUp() async throws {
        try await RoutingHarness.run(replicas: 2) { h in
            let tenant = try await h.tenant()
            let first = try await h.agent(in: tenant, name: "First"), second = try await h.agent(in: tenant, name: "Second")
            let outsider = try await h.agent(in: tenant, name: "Outsider")
            let key = try await leaveMessageSetup(h, members: [first, second], tenant: tenant)
            let visitor = try await h.visitor(key)
            let started = try await h.start(visitor)
            #expect(started.string("status") == "awaiting_message", "nobody is online: \(started.text)")
            let id = try #require(started.id)
            let sent = try await h.routing.call(.post, "/v1/visitor/conversations/\(id)/messages", token: visitor.token, json: [
                "client_message_id": "m1", "body": ["type": "text", "text": "Call me back please"],
            ])
            #expect(sent.status == .created, "\(sent.text)")

            // The group's agents see it and read it; an agent of no group of it does not.
            #expect(try await waiting(h, first) == [id])
            #expect(try await waiting(h, outsider) == [])
            let read = try await h.routing.call(.get, "/v1/conversations/\(id)/messages", token: second.token)
            #expect(read.status == .ok && read.text.contains("Call me back please"), "\(read.text)")
            #expect(try await h.routing.call(.get, "/v1/conversations/\(id)", token: outsider.token).status == .notFound)
            #expect(try await h.routing.call(.post, "/v1/conversations/\(id)/pick-up", token: outsider.token).status == .notFound)

            // Both group agents pick it up at once, on two replicas: one holds it, the other is told.
            async let a = h.replicas[0].call(.post, "/v1/conversations/\(id)/pick-up", token: first.token)
            async let b = h.replicas[1].call(.post, "/v1/conversations/\(id)/pick-up", token: second.token)
            let replies = [try await a, try await b]
            #expect(replies.map(\.status.code).sorted() == [200, 409], "\(replies.map(\.text))")
            let winner = replies[0].status == .ok ? first : second, loser = replies[0].status == .ok ? second : first
            #expect(replies.first { $0.status == .conflict }?.string("code") == "not_waiting")
            let held = try #require(replies.first { $0.status == .ok })
            #expect(held.string("status") == "open" && held.agentID == winner.id.description, "\(held.text)")
            #expect(try await waiting(h, loser) == [])
            let assigned = try await TestEnvironment.ownerQuery("""
                SELECT payload->>'reason' FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = 'conversation.assigned'
                """, as: String.self)
            #expect(assigned == ["picked_up"])

            // A second left message: the winner is at their limit (1), the other takes it.
            let next = try await h.start(try await h.visitor(key))
            let nextID = try #require(next.id)
            let full = try await h.routing.call(.post, "/v1/conversations/\(nextID)/pick-up", token: winner.token)
            #expect(full.status == .conflict && full.string("code") == "at_limit", "\(full.text)")
            #expect(try await h.routing.call(.post, "/v1/conversations/\(nextID)/pick-up", token: loser.token).status == .ok)
            #expect(try await h.routing.call(.get, "/v1/visitor/conversations/\(nextID)", token: try await h.visitor(key).token).status == .notFound)
            try await AssignmentTests().expectConsistent(h, tenant, limit: 1)
        }
    }

    @Test func anotherTenantsLeftMessageIsNotFound() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant(), other = try await h.tenant()
            let agent = try await h.agent(in: tenant), stranger = try await h.agent(in: other)
            let key = try await leaveMessageSetup(h, members: [agent], tenant: tenant)
            let id = try #require(try await h.start(try await h.visitor(key)).id)
            #expect(try await waiting(h, stranger) == [])
            #expect(try await h.routing.call(.post, "/v1/conversations/\(id)/pick-up", token: stranger.token).status == .notFound)
            #expect(try await h.routing.call(.post, "/v1/conversations/not-a-uuid/pick-up", token: agent.token).status == .notFound)
            let bad = try await h.routing.call(.get, "/v1/conversations?view=left", token: agent.token)
            #expect(bad.status == .unprocessableContent && bad.text.contains("view"), "\(bad.text)")
        }
    }
}
