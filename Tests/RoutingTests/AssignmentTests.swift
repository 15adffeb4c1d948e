import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Assignment and the queue under concurrency (issue 11): never two agents for one conversation,
/// never an agent past their limit, the queue in arrival order, and a freed seat taking the
/// longest-waiting visitor at once.
@Suite struct AssignmentTests {
    /// What the database says, checked after every race: each agent's count equals their open
    /// conversations, and no one holds more than the limit.
    func expectConsistent(_ h: RoutingHarness, _ tenant: RoutingHarness.Tenant, limit: Int) async throws {
        let rows = try await TestEnvironment.ownerQuery("""
            SELECT a.open_count::text || ':' || (SELECT count(*) FROM routing.conversations c
                WHERE c.tenant_id = a.tenant_id AND c.agent_id = a.employee_id AND c.status = 'open')::text
            FROM routing.agents a WHERE a.tenant_id = \(tenant.id.uuid)
            """, as: String.self)
        for row in rows {
            let parts = row.split(separator: ":").compactMap { Int($0) }
            #expect(parts[0] == parts[1], "open_count matches the open conversations: \(row)")
            #expect(parts[1] <= limit, "limit \(limit) never exceeded: \(row)")
        }
        // Each later row of a conversation's history hands on from the agent of the row before
        // (a transfer, a handover), or places it again after it went back to waiting (from a
        // queue, a group transfer, an agent who left): two winners of one race break the chain.
        let twice = try await TestEnvironment.ownerQuery("""
            SELECT count(*)::int FROM (
                SELECT previous_agent_id, reason, lag(agent_id) OVER w AS before, row_number() OVER w AS n
                FROM routing.assignments WHERE tenant_id = \(tenant.id.uuid) WINDOW w AS (PARTITION BY conversation_id ORDER BY id)
            ) t
            WHERE n > 1 AND previous_agent_id IS DISTINCT FROM before
              AND NOT (previous_agent_id IS NULL AND reason IN ('queue', 'transfer', 'forced_transfer'))
            """, as: Int.self)
        #expect(twice == [0], "no conversation was assigned twice")
    }

    @Test func oneFreeSeatTwoVisitorsOnTwoReplicas() async throws {
        try await RoutingHarness.run(replicas: 2) { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent], limit: 1)
            try await h.online(agent)
            let first = try await h.visitor(key, on: 0)
            let second = try await h.visitor(key, on: 1)
            async let a = h.start(first, on: 0)
            async let b = h.start(second, on: 1)
            let replies = [try await a, try await b]
            let statuses = replies.compactMap { $0.string("status") }.sorted()
            #expect(statuses == ["open", "queued"], "\(statuses)")
            #expect(replies.first { $0.string("status") == "queued" }?.queuePosition == 1)
            try await expectConsistent(h, tenant, limit: 1)
        }
    }

    @Test func fiftyVisitorsFiveAgentsLimitThree() async throws {
        try await RoutingHarness.run(replicas: 2) { h in
            let tenant = try await h.tenant()
            var agents: [RoutingHarness.Agent] = []
            for index in 0..<5 { agents.append(try await h.agent(in: tenant, name: "Agent \(index)")) }
            let (_, key) = try await h.groupWidget(in: tenant, members: agents, limit: 3)
            for agent in agents { try await h.online(agent) }
            var visitors: [RoutingHarness.Visitor] = []
            for index in 0..<50 { visitors.append(try await h.visitor(key, on: index % 2)) }
            // All at once, across both replicas.
            let replies = try await withThrowingTaskGroup(of: APIReply.self) { group in
                for (index, visitor) in visitors.enumerated() { group.addTask { try await h.start(visitor, on: index % 2) } }
                return try await group.reduce(into: [APIReply]()) { $0.append($1) }
            }
            let open = replies.filter { $0.string("status") == "open" }
            let queued = replies.filter { $0.string("status") == "queued" }
            #expect(open.count == 15)
            #expect(queued.count == 35)
            #expect(Dictionary(grouping: open, by: { $0.agentID ?? "" }).values.map(\.count).sorted() == [3, 3, 3, 3, 3])
            try await expectConsistent(h, tenant, limit: 3)
            // The queue is in arrival order: positions 1…35, by the time each was queued.
            let queue = try await h.routing.call(.get, "/v1/queue", token: tenant.admin)
            let waiting = ((queue.data.first?["waiting"]) as? [[String: Any]]) ?? []
            #expect(waiting.compactMap { $0["position"] as? Int } == Array(1...35))
            let firstWaiting = waiting.first?["conversation_id"] as? String
            let secondWaiting = waiting.dropFirst().first?["conversation_id"] as? String

            // Ending one conversation gives its seat to position 1 at once; everyone moves up one.
            let ending = open[0]
            let holder = agents.first { $0.id.description == ending.agentID }!
            #expect(try await h.replicas[1].call(.post, "/v1/conversations/\(ending.id!)/end", token: holder.token).status == .ok)
            let promoted = try await h.routing.call(.get, "/v1/conversations/\(firstWaiting!)", token: tenant.admin)
            #expect(promoted.string("status") == "open")
            #expect(promoted.agentID == holder.id.description)
            let next = try await h.routing.call(.get, "/v1/conversations/\(secondWaiting!)", token: tenant.admin)
            #expect(next.queuePosition == 1)
            try await expectConsistent(h, tenant, limit: 3)
        }
    }

    @Test func anAgentComingOnlineOrTurningReceptionOnFillsFromTheLongestWaiting() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent], limit: 2)
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try await h.start(try await h.visitor(key)).id!) }
            #expect(try await h.routing.call(.get, "/v1/conversations/\(ids[2])", token: tenant.admin).queuePosition == 3)
            // Online but reception off: nobody is assigned.
            try await h.routing.call(.put, "/v1/agents/me/state", token: agent.token, json: ["status": "online", "reception": "off"])
            #expect(try await h.routing.call(.get, "/v1/conversations/\(ids[0])", token: tenant.admin).string("status") == "queued")
            let on = try await h.routing.call(.put, "/v1/agents/me/state", token: agent.token, json: ["reception": "on"])
            #expect(on.json["open_conversations"] as? Int == 2)
            let states = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for (index, id) in ids.enumerated() {
                    group.addTask { (index, try await h.routing.call(.get, "/v1/conversations/\(id)", token: tenant.admin).string("status")) }
                }
                return try await group.reduce(into: [Int: String?]()) { $0[$1.0] = $1.1 }
            }
            #expect(states[0] == "open" && states[1] == "open" && states[2] == "queued", "the two longest waiting, in order: \(states)")
            #expect(try await h.routing.call(.get, "/v1/conversations/\(ids[2])", token: tenant.admin).queuePosition == 1)
            try await expectConsistent(h, tenant, limit: 2)
        }
    }

    @Test func aVisitorLeavingTheQueueOrRemovedByAnAdminClosesTheGap() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            var visitors: [RoutingHarness.Visitor] = []
            var ids: [String] = []
            for _ in 0..<3 {
                let visitor = try await h.visitor(key)
                visitors.append(visitor)
                ids.append(try await h.start(visitor).id!)
            }
            let left = try await h.routing.call(.post, "/v1/visitor/conversations/\(ids[0])/end", token: visitors[0].token)
            #expect(left.string("status") == "ended")
            #expect(try await h.routing.call(.get, "/v1/visitor/conversations/\(ids[2])", token: visitors[2].token).queuePosition == 2)
            let removed = try await h.routing.call(.delete, "/v1/queue/\(ids[1])", token: tenant.admin)
            #expect(removed.status == .noContent)
            let last = try await h.routing.call(.get, "/v1/visitor/conversations/\(ids[2])", token: visitors[2].token)
            #expect(last.queuePosition == 1)
            #expect(try await h.routing.call(.get, "/v1/visitor/conversations/\(ids[1])", token: visitors[1].token).string("end_reason") == "dequeued")
        }
    }
}
