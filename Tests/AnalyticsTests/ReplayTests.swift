import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// At-least-once delivery, restarts and back-dated events: figures equal a recomputation from the facts.
@Suite struct ReplayTests {
    /// A small day of work: transfers, bot-first, back-dated and automatic messages, ratings, state changes.
    static func scripts(agents: [EmployeeID], group: UUID, start: Date) -> [ConversationScript] {
        var scripts: [ConversationScript] = []
        for i in 0..<12 {
            let a = agents[i % agents.count], b = agents[(i + 1) % agents.count]
            var c = ConversationScript(widget: i % 2 == 0 ? group : nil, channel: i % 3 == 0 ? "wechat_official_account" : "web",
                                       at: start.addingTimeInterval(Double(i) * 600))
            c.say(.visitor, "问题 \(i)", at: 1)
            if i % 4 == 0 { c.say(.bot, "机器人", at: 2) }
            if i % 5 == 1 { c.queue(group, at: 2) }
            c.assign(a, at: 3, group: group)
            if i % 3 == 1 { c.assign(b, at: 9, group: group, reason: .transfer, previous: a) }
            if i % 6 != 5 {
                c.say(.agent, "自动", at: 10, agent: a, automatic: true)
                c.say(.agent, "回答 \(i)", at: Double(12 + i), agent: i % 3 == 1 ? b : a)
                if i % 2 == 0 { c.say(.visitor, "谢谢", at: 40) }
                // Written before the answer above but delivered after everything else: back-dated.
                if i % 4 == 2 { c.say(.agent, "早一点", at: 11, agent: i % 3 == 1 ? b : a) }
            }
            if i % 3 != 2 { c.end(at: 300) }
            if i % 2 == 1 { c.rate(1 + i % 5, labels: i % 4 == 1 ? ["耐心", "专业"] : ["快速"], solved: i % 3 == 0, at: 310) }
            if i % 4 == 3 { c.resolve(true, by: a, at: 200) }
            scripts.append(c)
        }
        return scripts
    }

    static func states(_ agents: [EmployeeID], start: Date) -> [any KefuEvent] {
        agents.flatMap { agent -> [any KefuEvent] in [
            AgentStateChanged(agentId: agent, status: .online, reception: .on, previousStatus: .offline, previousReception: .off, changedAt: start),
            AgentStateChanged(agentId: agent, status: .online, reception: .off, previousStatus: .online, previousReception: .on,
                              changedAt: start.addingTimeInterval(1800)),
            AgentStateChanged(agentId: agent, status: .offline, reception: .off, previousStatus: .online, previousReception: .off,
                              changedAt: start.addingTimeInterval(3600)),
        ] }
    }

    /// Everything a report route answers for the period, as JSON text.
    func figures(_ h: AnalyticsHarness, _ tenant: AnalyticsHarness.Tenant, from: Date, to: Date) async throws -> [String] {
        let period = "from=\(RFC3339.string(from: from))&to=\(RFC3339.string(from: to))"
        var answers: [String] = []
        for path in ["conversations?limit=200&", "agents?", "agents/durations?", "agents/satisfaction?", "sessions?by=channel&",
                     "sessions?by=hour&", "sessions?by=widget&"] {
            let reply = try await h.get("/v1/analytics/\(path)\(period)", token: tenant.admin)
            var json = reply.json
            json.removeValue(forKey: "from")
            json.removeValue(forKey: "to")
            answers.append(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
        }
        return answers
    }

    @Test func eventsReplayedTwiceAndOutOfOrderGiveTheFiguresOfTheFacts() async throws {
        try await AnalyticsHarness.run { h in
            let start = Date().addingTimeInterval(-7_200).rounded()
            let group = UUID()
            let inOrder = try await h.tenant(), shuffled = try await h.tenant()
            var agents: [EmployeeID] = []
            for _ in 0..<3 { agents.append(EmployeeID()) }
            let scripts = Self.scripts(agents: agents, group: group, start: start)
            let employees: [any KefuEvent] = agents.map {
                EmployeeCreated(employee: EmployeeSnapshot(employeeId: $0, account: "a\($0.description.prefix(6))", displayName: "A", departmentId: nil, status: "active"))
            }
            let events = employees + Self.states(agents, start: start) + scripts.flatMap(\.events)
            try await h.publish(events, in: inOrder)
            // The same facts delivered twice, each time in another order, one event per
            // transaction and in batches (so the consumer sees them in separate and shared batches).
            var generator = SystemRandomNumberGenerator()
            for event in events.shuffled(using: &generator) { try await h.publish([event], in: shuffled) }
            try await h.publish(events.shuffled(using: &generator), in: shuffled)
            try await h.settled(inOrder)
            try await h.settled(shuffled)

            let to = start.addingTimeInterval(7_000)
            let expected = try await figures(h, inOrder, from: start.addingTimeInterval(-60), to: to)
            let served = try await figures(h, shuffled, from: start.addingTimeInterval(-60), to: to)
            for (e, s) in zip(expected, served) { #expect(e == s) }
            let records = try await h.get("/v1/analytics/conversations?limit=200", token: inOrder.admin).data
            #expect(records.count == 12, "each conversation once, however often its events came")

            // Recomputing every row from its stored facts changes nothing.
            func derived() async throws -> [String] {
                try await TestEnvironment.ownerQuery("""
                    SELECT row(id, agent_id, agent_ids, holder_id, group_id, first_assigned_at, last_assigned_at, last_queued_at,
                               first_response_agent_id, first_response_ms, visitor_messages, agent_messages, last_message_at, base_quality)::text
                    FROM analytics.conversations WHERE tenant_id = \(shuffled.id.uuid) ORDER BY id
                    """, as: String.self)
            }
            let before = try await derived()
            try await h.database.withTenant(shuffled.id) { tx in
                try await tx.query("SELECT count(analytics.recompute_conversation(id)) FROM analytics.conversations")
            }
            #expect(try await derived() == before)
            #expect(before.count == 12)
        }
    }
}
