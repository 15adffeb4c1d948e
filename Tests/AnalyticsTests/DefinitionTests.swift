import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// The definitions of docs/ANALYTICS.md, each with the trap the issue names.
@Suite struct DefinitionTests {
    /// A recent start, inside the default 30-day period.
    static let base = Date().addingTimeInterval(-3_600).rounded()

    func record(_ h: AnalyticsHarness, _ tenant: AnalyticsHarness.Tenant, _ id: ConversationID) async throws -> [String: Any] {
        try await h.get("/v1/analytics/conversations/\(id)", token: tenant.admin).json
    }

    @Test func botAndAutomaticMessagesNeverCountAsTheFirstResponse() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(tenant)
            // Bot first: the bot answers at once; a human takes over 10 minutes later.
            var c = ConversationScript(at: Self.base)
            c.say(.visitor, "hello", at: 1)
            c.say(.bot, "I am the bot", at: 2)
            c.say(.system, "You are in line", at: 3)
            c.assign(agent, at: 600)
            c.say(.agent, "Guide-rule push", at: 601, agent: agent, automatic: true)
            c.say(.agent, "Hi, I am a person", at: 620, agent: agent)
            c.say(.visitor, "thanks", at: 630)
            try await h.publish(c.events, in: tenant)
            try await h.settled(tenant)
            let r = try await record(h, tenant, c.id)
            #expect(r["first_response_seconds"] as? Double == 20, "from the assignment, not the bot's reply or the push: \(r)")
            #expect(r["first_response_agent_id"] as? String == agent.description)
            #expect(r["agent_messages"] as? Int == 1, "automatic agent messages are not the agent's")
            #expect(r["visitor_messages"] as? Int == 2)
            #expect(r["quality"] as? String == "normal")
        }
    }

    @Test func aTransferBeforeTheReplyCreditsTheReplierAndShowsBothAgents() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let first = try await h.agent(tenant, name: "First"), second = try await h.agent(tenant, name: "Second")
            var c = ConversationScript(at: Self.base)
            c.say(.visitor, "hello", at: 1)
            c.assign(first, at: 2)
            c.assign(second, at: 30, reason: .transfer, previous: first)
            c.say(.agent, "I can help", at: 42, agent: second)
            c.say(.visitor, "great", at: 50)
            try await h.publish(c.events, in: tenant)
            try await h.settled(tenant)
            let r = try await record(h, tenant, c.id)
            #expect(r["first_response_seconds"] as? Double == 40, "the customer waited from the first assignment")
            #expect(r["agent_id"] as? String == second.description && r["first_response_agent_id"] as? String == second.description)
            #expect(Set(r["agent_ids"] as? [String] ?? []) == [first.description, second.description])
            // Joining (an assignment) is not a response: the first agent is credited nothing.
            let agents = try await h.get("/v1/analytics/agents", token: tenant.admin)
            let rows = Dictionary(uniqueKeysWithValues: agents.data.map { ($0["agent_id"] as! String, $0) })
            #expect(rows[second.description]?["conversations"] as? Int == 1 && rows[second.description]?["first_responses"] as? Int == 1)
            #expect(rows[first.description]?["conversations"] as? Int == 0, "the first agent never replied")
            // The record is found under either agent.
            for agent in [first, second] {
                let listed = try await h.get("/v1/analytics/conversations?agent_id=\(agent)", token: tenant.admin)
                #expect(listed.data.map { $0["id"] as? String } == [c.id.description])
            }
        }
    }

    @Test func aPickUpDaysLaterOrAReopenedVisitorIsMeasuredFromItsOwnAssignment() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(tenant)
            // Left a message 5 days ago; an agent picked it up now and answered in 30 s.
            var left = ConversationScript(at: Self.base.addingTimeInterval(-5 * 86_400))
            left.say(.visitor, "please call me back", at: 1)
            left.assign(agent, at: 5 * 86_400, reason: .pickedUp)
            left.say(.agent, "calling you now", at: 5 * 86_400 + 30, agent: agent)
            // The same visitor comes back after the first conversation ended: a new conversation,
            // measured from its own assignment, not from the first one's start.
            let visitor = VisitorID()
            var before = ConversationScript(visitor: visitor, at: Self.base.addingTimeInterval(-7_200))
            before.say(.visitor, "hi", at: 1)
            before.assign(agent, at: 2)
            before.say(.agent, "hello", at: 4, agent: agent)
            before.end(at: 60, agent: agent)
            var again = ConversationScript(visitor: visitor, at: Self.base)
            again.say(.visitor, "me again", at: 0)
            again.assign(agent, at: 1)
            again.say(.agent, "welcome back", at: 8, agent: agent)
            try await h.publish(left.events + before.events + again.events, in: tenant)
            try await h.settled(tenant)
            #expect(try await record(h, tenant, left.id)["first_response_seconds"] as? Double == 30)
            #expect(try await record(h, tenant, before.id)["first_response_seconds"] as? Double == 2)
            #expect(try await record(h, tenant, before.id)["duration_seconds"] as? Double == 60)
            #expect(try await record(h, tenant, again.id)["first_response_seconds"] as? Double == 7)
        }
    }

    @Test func eachQualityIsDecidedFromTheMessages() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(tenant)
            var silent = ConversationScript(at: Self.base)
            silent.assign(agent, at: 1)
            silent.say(.bot, "anyone there?", at: 2)
            var unanswered = ConversationScript(at: Self.base.addingTimeInterval(1))
            unanswered.say(.visitor, "hello?", at: 1)
            unanswered.assign(agent, at: 2)
            unanswered.say(.agent, "auto reply", at: 3, agent: agent, automatic: true)
            var noReply = ConversationScript(at: Self.base.addingTimeInterval(2))
            noReply.say(.visitor, "question", at: 1)
            noReply.assign(agent, at: 2)
            noReply.say(.agent, "answer", at: 3, agent: agent)
            var proactive = ConversationScript(at: Self.base.addingTimeInterval(3))
            proactive.assign(agent, at: 1)
            proactive.say(.agent, "can I help?", at: 2, agent: agent)
            var normal = ConversationScript(at: Self.base.addingTimeInterval(4))
            normal.say(.visitor, "question", at: 1)
            normal.assign(agent, at: 2)
            normal.say(.agent, "answer", at: 3, agent: agent)
            normal.say(.visitor, "thanks", at: 4)
            // Reception's default definition: 3 messages each way, a first response within 60 s,
            // at least 4 stars when rated.
            var good = ConversationScript(at: Self.base.addingTimeInterval(5))
            for i in 0..<3 {
                good.say(.visitor, "q\(i)", at: Double(10 * i + 1))
                if i == 0 { good.assign(agent, at: 2) }
                good.say(.agent, "a\(i)", at: Double(10 * i + 5), agent: agent)
            }
            good.say(.visitor, "thanks", at: 40)
            good.rate(5, at: 50)
            var slow = ConversationScript(at: Self.base.addingTimeInterval(6))
            slow.say(.visitor, "q", at: 1)
            slow.assign(agent, at: 2)
            slow.say(.agent, "late", at: 200, agent: agent)
            for i in 0..<3 { slow.say(.visitor, "v\(i)", at: Double(201 + i)); slow.say(.agent, "a\(i)", at: Double(210 + i), agent: agent) }
            let all = [silent, unanswered, noReply, proactive, normal, good, slow]
            try await h.publish(all.flatMap(\.events), in: tenant)
            try await h.settled(tenant)
            let expected = ["silent", "unanswered", "customer_no_reply", "customer_no_reply", "normal", "high_quality", "normal"]
            for (script, quality) in zip(all, expected) {
                #expect(try await record(h, tenant, script.id)["quality"] as? String == quality, "\(quality)")
            }
            let filtered = try await h.get("/v1/analytics/conversations?quality=customer_no_reply", token: tenant.admin)
            #expect(Set(filtered.data.compactMap { $0["id"] as? String }) == [noReply.id.description, proactive.id.description])
            // Reply rate: assigned conversations with an agent message / assigned conversations.
            let row = try await h.get("/v1/analytics/agents?agent_id=\(agent)", token: tenant.admin).data.first
            #expect(row?["assigned"] as? Int == 7 && row?["answered"] as? Int == 5)
            #expect(row?["reply_rate"] as? Double == 0.7143)
            let bad = try await h.call(.get, "/v1/analytics/conversations?quality=great", token: tenant.admin)
            #expect(bad.status == .unprocessableContent && bad.fields == ["quality"])
        }
    }
}

extension Date {
    /// To the millisecond, as events carry times.
    func rounded() -> Date { Date(timeIntervalSince1970: (timeIntervalSince1970 * 1000).rounded() / 1000) }
}
