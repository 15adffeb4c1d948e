import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// The customer funnel (`GET /v1/analytics/agents/funnel`) from the customer library's
/// `customer.stage_changed`: stages, conversion, deals and time to close per agent and channel,
/// exactly as docs/ANALYTICS.md defines them, the same whatever order the events came in.
@Suite struct FunnelTests {
    static let stages = ["initial_contact", "interested", "order_submitted", "deal_closed"]

    static func change(_ customer: UUID, owner: EmployeeID?, channel: String?, _ before: String?, _ after: String?, at: Date) -> CustomerStageChanged {
        CustomerStageChanged(
            customerId: customer, ownerId: owner, channel: channel, source: nil, stageBefore: before, stageAfter: after,
            positionBefore: before.flatMap(stages.firstIndex(of:)), positionAfter: after.flatMap(stages.firstIndex(of:)),
            won: after == stages.last, at: at, by: owner
        )
    }

    /// c1 (A, web) goes initial → interested → closed in 3 hours; c2 (A, wechat) initial →
    /// interested; c3 (B, web) stays initial; c4 (B) reaches order_submitted and is merged away;
    /// c5 is in the pool (no owner): neither counts.
    static func events(a: EmployeeID, b: EmployeeID, start: Date) -> [any KefuEvent] {
        let (c1, c2, c3, c4, c5, survivor) = (UUID(), UUID(), UUID(), UUID(), UUID(), UUID())
        func at(_ hours: Double) -> Date { start.addingTimeInterval(hours * 3600) }
        return [
            change(c1, owner: a, channel: "web", nil, "initial_contact", at: at(0)),
            change(c1, owner: a, channel: "web", "initial_contact", "interested", at: at(1)),
            change(c1, owner: a, channel: "web", "interested", "deal_closed", at: at(3)),
            change(c2, owner: a, channel: "wechat", nil, "initial_contact", at: at(0.5)),
            change(c2, owner: a, channel: "wechat", "initial_contact", "interested", at: at(2)),
            change(c3, owner: b, channel: "web", nil, "initial_contact", at: at(1)),
            change(c4, owner: b, channel: "web", nil, "order_submitted", at: at(1)),
            CustomerMerged(mergeId: UUID(), survivorId: survivor, mergedIds: [c4], reason: "manual", visitorIds: [], by: nil),
            change(c5, owner: nil, channel: "web", nil, "interested", at: at(1)),
        ]
    }

    @Test func theFunnelCountsStagesConversionDealsAndTimeToClose() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let sales = UUID()
            try await h.publish(DepartmentChanged(departmentId: sales, name: "Sales", parentId: nil, exists: true), in: tenant)
            let a = try await h.agent(tenant, name: "甲", department: sales), b = try await h.agent(tenant, name: "乙")
            let start = Date().addingTimeInterval(-5 * 3600).rounded()
            try await h.publish(Self.events(a: a, b: b, start: start), in: tenant)
            try await h.settled(tenant)

            let report = try await h.get("/v1/analytics/agents/funnel", token: tenant.admin)
            #expect(report.status == .ok, "\(report.text)")
            let rows = report.data, totals = try #require(report.json["totals"] as? [String: Any])
            #expect(rows.map { $0["agent_id"] as? String } == [a.description, b.description])
            func text(_ value: Any?) -> String {
                guard let value, !(value is NSNull) else { return "-" }
                return "\(value)"
            }
            /// Each stage as "stage customers reached conversion".
            func stages(_ row: [String: Any]) -> [String] {
                (row["stages"] as? [[String: Any]] ?? []).map { stage in
                    ["stage", "customers", "reached", "conversion"].map { text(stage[$0]) }.joined(separator: " ")
                }
            }
            // Stages listed: those a counted customer is at (order_submitted only the merged c4 was).
            #expect(stages(rows[0]) == ["initial_contact 0 2 1", "interested 1 2 0.5", "deal_closed 1 1 -"])
            #expect(rows[0]["customers"] as? Int == 2 && rows[0]["deals"] as? Int == 1 && rows[0]["deal_rate"] as? Double == 0.5)
            #expect(rows[0]["average_close_seconds"] as? Double == 10_800, "from the first stage to the deal")
            #expect(rows[1]["customers"] as? Int == 1 && rows[1]["deals"] as? Int == 0 && text(rows[1]["average_close_seconds"]) == "-")
            #expect(stages(rows[1]) == ["initial_contact 1 1 0", "interested 0 0 -", "deal_closed 0 0 -"])
            #expect(totals["customers"] as? Int == 3 && totals["deals"] as? Int == 1)
            #expect(stages(totals) == ["initial_contact 1 3 0.6667", "interested 1 2 0.5", "deal_closed 1 1 -"])
            for key in ["customers", "deals"] {
                #expect(rows.map { $0[key] as? Int ?? 0 }.reduce(0, +) == totals[key] as? Int, "\(key) adds up")
            }

            // By channel: agent A's customers split into web and wechat.
            let byChannel = try await h.get("/v1/analytics/agents/funnel?by=channel", token: tenant.admin).data
            let split = byChannel.filter { $0["agent_id"] as? String == a.description }.map { ($0["channel"] as? String ?? "", $0["deals"] as? Int ?? -1) }
            #expect(split.sorted { $0.0 < $1.0 }.map { "\($0.0):\($0.1)" } == ["web:1", "wechat:0"])
            #expect(try await h.call(.get, "/v1/analytics/agents/funnel?by=stage", token: tenant.admin).fields == ["by"])
            // A period after the changes holds nobody.
            let later = RFC3339.string(from: Date().addingTimeInterval(60))
            let empty = try await h.get("/v1/analytics/agents/funnel?from=\(later)&to=\(RFC3339.string(from: Date().addingTimeInterval(120)))"
                .replacingOccurrences(of: "+", with: "%2B"), token: tenant.admin)
            #expect(empty.data.isEmpty && (empty.json["totals"] as? [String: Any])?["customers"] as? Int == 0)

            // CSV: one line per agent and stage, then the totals' stages, the same numbers.
            let table = try await h.get("/v1/analytics/agents/funnel?format=csv", token: tenant.admin).csvRows
            let header = try #require(table.first)
            #expect(table.count == 1 + 3 * 3)
            let column = { (name: String) in header.firstIndex(of: name)! }
            #expect(table[2][column("stage")] == "interested" && table[2][column("reached")] == "2" && table[2][column("conversion")] == "0.5")
            #expect(table[3][column("average_close_seconds")] == "10800" && table[3][column("agent_id")] == a.description)
            #expect(table[7][column("agent_id")] == "" && table[7][column("conversion")] == "0.6667" && table[7][column("customers")] == "3")

            // A department's supervisor sees its agents only.
            let supervisor = try await h.token(tenant, [.analyticsAgents], department: sales)
            let scoped = try await h.get("/v1/analytics/agents/funnel", token: supervisor)
            #expect(scoped.data.map { $0["agent_id"] as? String } == [a.description])
            #expect((scoped.json["totals"] as? [String: Any])?["customers"] as? Int == 2)
            // Another tenant sees none of it.
            let other = try await h.tenant()
            #expect(try await h.get("/v1/analytics/agents/funnel", token: other.admin).data.isEmpty)
        }
    }

    /// Delivered twice, shuffled (a merge before the merged customer's own change, a deal before
    /// the stage it came from): the same figures as the events once in order.
    @Test func eventsReplayedTwiceAndOutOfOrderGiveTheSameFunnel() async throws {
        try await AnalyticsHarness.run { h in
            let ordered = try await h.tenant(), shuffled = try await h.tenant()
            let a = EmployeeID(), b = EmployeeID()
            let start = Date().addingTimeInterval(-5 * 3600).rounded()
            let events = Self.events(a: a, b: b, start: start)
            try await h.publish(events, in: ordered)
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<2 { try await h.publish(events.shuffled(using: &generator), in: shuffled) }
            try await h.settled(ordered)
            try await h.settled(shuffled)
            for path in ["/v1/analytics/agents/funnel", "/v1/analytics/agents/funnel?by=channel"] {
                let once = try await h.get(path, token: ordered.admin), twice = try await h.get(path, token: shuffled.admin)
                #expect(once.status == .ok && !once.data.isEmpty)
                #expect(NSArray(array: once.data) == NSArray(array: twice.data), "\(path)")
                #expect(NSDictionary(dictionary: once.json["totals"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: twice.json["totals"] as? [String: Any] ?? [:]))
            }
        }
    }
}
