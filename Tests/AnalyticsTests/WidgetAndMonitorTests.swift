import Foundation
import HTTPTypes
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Widget analysis from the embed script's events, and live monitoring.
@Suite struct WidgetAndMonitorTests {
    func widget(_ h: AnalyticsHarness, _ tenant: AnalyticsHarness.Tenant) async throws -> (id: String, key: String) {
        let admin = try await TestKeys.shared.token(tenant: tenant.id, permissions: [.receptionWidgets])
        let widget = try await h.reception.call(.post, "/v1/widgets", token: admin, json: [
            "name": "W" + UUID().uuidString.prefix(6), "style": "icon", "colour": "#12AB34", "pre_assignment_messages": [String](),
            "guide_rules_enabled": false, "reception": ["mode": "rules"], "mount_positions": [[String: Any]](), "extra_entries": [[String: Any]](),
        ])
        try #require(widget.status == .created, "\(widget.text)")
        return (widget.id!, widget.string("public_key")!)
    }

    @Test func theEmbedScriptsEventsMakeTheReceptionFunnel() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let (widgetID, key) = try await widget(h, tenant)
            let visitor = VisitorID()
            func post(_ json: [String: Any]) async throws -> APIReply {
                try await h.call(.post, "/v1/public/widgets/\(key)/events", token: nil, json: json)
            }
            for page in ["/pricing", "/pricing", "/home"] {
                let reply = try await post(["kind": "impression", "page_url": page, "source": "baidu"])
                #expect(reply.status == .noContent && reply.headers[.accessControlAllowOrigin] == "*", "\(reply.text)")
            }
            #expect(try await post(["kind": "click", "page_url": "/pricing", "source": "baidu", "visitor_id": visitor.description]).status == .noContent)
            #expect(try await post(["kind": "click", "page_url": "/home"]).status == .noContent)
            let bad = try await post(["kind": "hover"])
            #expect(bad.status == .unprocessableContent && bad.fields == ["kind"])
            #expect(try await h.call(.post, "/v1/public/widgets/nope/events", token: nil, json: ["kind": "click"]).status == .notFound)
            let preflight = try await h.call(.options, "/v1/public/widgets/\(key)/events", token: nil)
            #expect(preflight.status == .noContent && preflight.headers[.accessControlAllowOrigin] == "*")

            let agent = try await h.agent(tenant)
            var c = ConversationScript(visitor: visitor, widget: UUID(uuidString: widgetID), at: Date().rounded())
            c.say(.visitor, "how much?", at: 0)
            c.assign(agent, at: 1)
            c.say(.agent, "it depends", at: 3, agent: agent)
            try await h.publish(c.events, in: tenant)
            try await h.settled(tenant)

            let report = try await h.get("/v1/analytics/widgets", token: tenant.admin)
            let row = try #require(report.data.first)
            #expect(row["widget_id"] as? String == widgetID)
            #expect(row["impressions"] as? Int == 3 && row["clicks"] as? Int == 2 && row["click_rate"] as? Double == 0.6667)
            #expect(row["conversations"] as? Int == 1 && row["connection_rate"] as? Double == 0.5)
            let funnel = report.json["funnel"] as? [String: Int]
            #expect(funnel == ["impressions": 3, "clicks": 2, "conversations": 1, "assigned": 1, "answered": 1])
            let pages = try await h.get("/v1/analytics/widgets?by=page", token: tenant.admin).data
            let byPage = Dictionary(uniqueKeysWithValues: pages.map { ($0["key"] as! String, $0) })
            #expect(byPage["/pricing"]?["clicks"] as? Int == 1 && byPage["/pricing"]?["conversations"] as? Int == 1, "credited to the visitor's click")
            #expect(byPage["/home"]?["impressions"] as? Int == 1 && byPage["/home"]?["conversations"] as? Int == 0)
            let sources = try await h.get("/v1/analytics/widgets?by=source", token: tenant.admin).data
            #expect(sources.first { $0["key"] as? String == "baidu" }?["impressions"] as? Int == 3)
            let days = try await h.get("/v1/analytics/widgets?by=day", token: tenant.admin).data
            #expect(days.map { $0["clicks"] as? Int ?? 0 }.reduce(0, +) == 2)
        }
    }

    @Test func widgetEventsAreLimitedPerAddress() async throws {
        try await AnalyticsHarness.run(environment: ["KEFU_WIDGET_EVENT_RATE_LIMIT_PER_ADDRESS": "5"]) { h in
            let tenant = try await h.tenant()
            let (_, key) = try await widget(h, tenant)
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for _ in 0..<12 {
                let reply = try await h.call(.post, "/v1/public/widgets/\(key)/events", token: nil, json: ["kind": "impression"])
                statuses.append(reply.status)
                if reply.status == .tooManyRequests { retryAfter = reply.headers[.retryAfter] }
            }
            #expect(statuses.contains(.tooManyRequests) && retryAfter != nil, "\(statuses)")
            #expect(statuses.filter { $0 == .noContent }.count <= 5)
        }
    }

    @Test func theMonitorShowsEachAgentsStateAndTodaysWork() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let busy = try await h.agent(tenant), idle = try await h.agent(tenant), away = try await h.agent(tenant), never = try await h.agent(tenant)
            let now = Date().addingTimeInterval(-5).rounded()
            func state(_ agent: EmployeeID, _ status: AgentStatus, _ reception: ReceptionSwitch) -> AgentStateChanged {
                AgentStateChanged(agentId: agent, status: status, reception: reception, previousStatus: .offline, previousReception: .off, changedAt: now)
            }
            var open = ConversationScript(at: now)
            open.say(.visitor, "hi", at: 0)
            open.assign(busy, at: 1)
            var waiting = ConversationScript(at: now)
            waiting.queue(UUID(), at: 1)
            var done = ConversationScript(at: now)
            done.say(.visitor, "hi", at: 0)
            done.assign(idle, at: 1)
            done.say(.agent, "bye", at: 2, agent: idle)
            done.end(at: 3)
            done.rate(4, at: 4)
            try await h.publish([state(busy, .online, .on), state(idle, .online, .off), state(away, .offline, .off)]
                                + open.events + waiting.events + done.events, in: tenant)
            try await h.settled(tenant)
            let monitor = try await h.get("/v1/analytics/monitor", token: tenant.admin)
            #expect(monitor.json["ongoing"] as? Int == 2 && monitor.json["queued"] as? Int == 1)
            let agents = Dictionary(uniqueKeysWithValues: (monitor.json["agents"] as? [[String: Any]] ?? []).map { ($0["agent_id"] as! String, $0) })
            #expect(agents[busy.description]?["state"] as? String == "in_conversation")
            #expect(agents[busy.description]?["open_conversations"] as? Int == 1)
            #expect(agents[idle.description]?["state"] as? String == "reception_off")
            #expect(agents[idle.description]?["today_conversations"] as? Int == 1 && agents[idle.description]?["today_average_stars"] as? Double == 4)
            #expect(agents[away.description]?["state"] as? String == "not_logged_in" && agents[never.description]?["state"] as? String == "not_logged_in")
            #expect((agents[busy.description]?["seconds_in_state"] as? Int ?? -1) >= 0)
            #expect(monitor.json["states"] as? [String: Int] == ["in_conversation": 1, "reception_on": 0, "reception_off": 1, "not_logged_in": 2])
            // A transfer moves the open conversation to the receiver's count.
            var moved = open
            moved.events = []
            moved.assign(idle, at: 30, reason: .transfer, previous: busy)
            try await h.publish(moved.events, in: tenant)
            try await h.settled(tenant)
            let after = try await h.get("/v1/analytics/monitor", token: tenant.admin)
            let now2 = Dictionary(uniqueKeysWithValues: (after.json["agents"] as? [[String: Any]] ?? []).map { ($0["agent_id"] as! String, $0) })
            #expect(now2[idle.description]?["state"] as? String == "in_conversation" && now2[busy.description]?["state"] as? String == "reception_on")
        }
    }
}
