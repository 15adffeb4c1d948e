import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// The reports agree with each other and with their records: per-agent rows add up to the totals,
/// CSV says what JSON says, days and hours are the tenant's across daylight saving, and message
/// text is searched in Chinese.
@Suite struct ReportTests {
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")

    @Test func perAgentRowsAddUpToTheTotalsAndCSVEqualsJSON() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let agents = [try await h.agent(tenant, name: "甲"), try await h.agent(tenant, name: "乙"), try await h.agent(tenant, name: "丙")]
            let start = Date().addingTimeInterval(-7_200).rounded()
            let scripts = ReplayTests.scripts(agents: agents, group: UUID(), start: start)
            try await h.publish(scripts.flatMap(\.events), in: tenant)
            try await h.settled(tenant)

            let report = try await h.get("/v1/analytics/agents", token: tenant.admin)
            let rows = report.data, totals = try #require(report.json["totals"] as? [String: Any])
            #expect(rows.count == 3)
            for key in ["conversations", "assigned", "answered", "first_responses", "rated", "resolved"] {
                #expect(rows.map { $0[key] as? Int ?? 0 }.reduce(0, +) == totals[key] as? Int, "\(key) adds up")
            }
            #expect(totals["conversations"] as? Int == 12)
            // The totals' averages are the rows' averages weighted by their counts.
            let weighted = rows.reduce(0.0) { $0 + ($1["average_first_response_seconds"] as? Double ?? 0) * Double($1["first_responses"] as? Int ?? 0) }
            let average = try #require(totals["average_first_response_seconds"] as? Double)
            #expect(abs(weighted / Double(totals["first_responses"] as! Int) - average) < 0.01)
            // Records and sessions count the same conversations.
            let records = try await h.get("/v1/analytics/conversations?limit=200", token: tenant.admin).data
            #expect(records.count == 12)
            let sessions = try await h.get("/v1/analytics/sessions?by=channel", token: tenant.admin)
            #expect(sessions.data.map { $0["conversations"] as? Int ?? 0 }.reduce(0, +) == 12)
            #expect((sessions.json["totals"] as? [String: Any])?["conversations"] as? Int == 12)
            #expect(records.filter { ($0["quality"] as? String) == "unanswered" }.count
                    == ((sessions.json["totals"] as? [String: Any])?["quality"] as? [String: Int])?["unanswered"])

            // CSV: the same rows and numbers, and only with the export permission.
            let csv = try await h.get("/v1/analytics/agents?format=csv", token: tenant.admin)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let table = csv.csvRows
            let header = try #require(table.first)
            for (json, line) in zip(rows + [totals], table.dropFirst()) {
                for (column, cell) in zip(header, line) where column != "display_name" && column != "agent_id" {
                    let value = json[column]
                    let text = value.map { v -> String in
                        if let n = v as? NSNumber { return "\(n)" }
                        return v as? String ?? ""
                    } ?? ""
                    #expect(text == cell || (Double(text) != nil && Double(text) == Double(cell)), "\(column): \(text) vs \(cell)")
                }
            }
            #expect(table.count == rows.count + 2, "header, agents, totals")
            let recordsCSV = try await h.call(.get, "/v1/analytics/conversations", token: tenant.admin, headers: [.accept: "text/csv"])
            #expect(recordsCSV.status == .ok)
            let recordTable = recordsCSV.csvRows
            #expect(recordTable.count == 13)
            let ids = recordTable.dropFirst().map { $0[0] }
            #expect(ids == records.map { $0["id"] as! String }, "same records, same order")
            let firstResponses = recordTable.dropFirst().map { Double($0[14]) }
            #expect(firstResponses == records.map { $0["first_response_seconds"] as? Double })
            let qualities = recordTable.dropFirst().map { $0[13] }
            #expect(qualities == records.map { $0["quality"] as! String })
            let noExport = try await h.token(tenant, [.analyticsAgents, .analyticsRecords])
            #expect(try await h.call(.get, "/v1/analytics/agents?format=csv", token: noExport).status == .forbidden)
            #expect(try await h.call(.get, "/v1/analytics/conversations?format=csv", token: noExport).status == .forbidden)

            // The satisfaction distribution adds up too.
            let satisfaction = try await h.get("/v1/analytics/agents/satisfaction", token: tenant.admin)
            let rated = satisfaction.data.map { $0["rated"] as? Int ?? 0 }.reduce(0, +)
            #expect(rated == totals["rated"] as? Int && rated == 6)
            let stars = (satisfaction.json["totals"] as? [String: Any])?["stars"] as? [String: Int] ?? [:]
            #expect(stars.values.reduce(0, +) == rated)
            let labels = (satisfaction.json["totals"] as? [String: Any])?["labels"] as? [[String: Any]] ?? []
            #expect(labels.first { $0["label"] as? String == "快速" }?["count"] as? Int == 3)
        }
    }

    @Test func daysAndHoursAreTheTenantsAcrossADaylightSavingChange() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant(timeZone: "Europe/Berlin")
            let agent = try await h.agent(tenant)
            // Berlin moved from +01:00 to +02:00 at 2026-03-29 01:00 UTC (02:00 local became 03:00).
            let times = ["2026-03-28T22:30:00Z", "2026-03-28T23:30:00Z", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z",
                         "2026-03-29T21:30:00Z", "2026-03-29T22:30:00Z"]
            var events: [any KefuEvent] = []
            for time in times {
                var c = ConversationScript(at: RFC3339.date(from: time)!)
                c.say(.visitor, "hallo", at: 0)
                c.assign(agent, at: 1)
                events += c.events
            }
            try await h.publish(events, in: tenant)
            try await h.settled(tenant)
            let day = try await h.get("/v1/analytics/sessions?by=day&from=2026-03-28&to=2026-03-30", token: tenant.admin)
            #expect(day.json["time_zone"] as? String == "Europe/Berlin")
            let days = Dictionary(uniqueKeysWithValues: day.data.map { ($0["key"] as! String, $0["conversations"] as! Int) })
            // 22:30Z on the 28th is 23:30 there; 21:30Z on the 29th is 23:30 (summer time); 22:30Z is the 30th.
            #expect(days == ["2026-03-28": 1, "2026-03-29": 4, "2026-03-30": 1], "\(days)")
            // The 29th there is 23 hours long: 2026-03-28T23:00Z to 2026-03-29T22:00Z.
            let only = try await h.get("/v1/analytics/sessions?by=hour&from=2026-03-29&to=2026-03-29", token: tenant.admin)
            #expect(only.json["from"] as? String == "2026-03-28T23:00:00.000Z" && only.json["to"] as? String == "2026-03-29T22:00:00.000Z")
            let hours = Dictionary(uniqueKeysWithValues: only.data.map { ($0["key"] as! String, $0["conversations"] as! Int) })
            // 00:30 and 01:30 in winter time, 03:30 and 23:30 in summer time (no 02:xx that day).
            #expect(hours == ["0": 1, "1": 1, "3": 1, "23": 1], "\(hours)")
            let records = try await h.get("/v1/analytics/conversations?from=2026-03-29&to=2026-03-29", token: tenant.admin)
            #expect(records.data.count == 4)
            let bad = try await h.call(.get, "/v1/analytics/sessions?by=day&from=2026-02-30", token: tenant.admin)
            #expect(bad.status == .unprocessableContent && bad.fields == ["from"])
            #expect(try await h.call(.get, "/v1/analytics/sessions?by=week", token: tenant.admin).fields == ["by"])
        }
    }

    @Test func messageTextIsSearchedInChineseOverTheLast90Days() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant(), other = try await h.tenant()
            let agent = try await h.agent(tenant)
            let now = Date().addingTimeInterval(-600).rounded()
            var refund = ConversationScript(at: now)
            refund.say(.visitor, "你好，我想申请退货，订单号 A-100", at: 1)
            refund.assign(agent, at: 2)
            refund.say(.agent, "好的，请稍等", at: 3, agent: agent)
            var invoice = ConversationScript(at: now.addingTimeInterval(1))
            invoice.say(.visitor, "能开发票吗？", at: 1)
            invoice.assign(agent, at: 2)
            invoice.say(.agent, "可以开具增值税发票", at: 3, agent: agent)
            // Older than 90 days: its text is not searched (the record itself is still listed).
            var old = ConversationScript(at: Date().addingTimeInterval(-100 * 86_400).rounded())
            old.say(.visitor, "我想退货", at: 1)
            try await h.publish(refund.events + invoice.events + old.events, in: tenant)
            var elsewhere = ConversationScript(at: now)
            elsewhere.say(.visitor, "我想申请退货", at: 1)
            try await h.publish(elsewhere.events, in: other)
            try await h.settled(tenant)
            try await h.settled(other)

            func found(_ q: String, extra: String = "") async throws -> Set<String> {
                let encoded = q.addingPercentEncoding(withAllowedCharacters: Self.unreserved)!
                let reply = try await h.get("/v1/analytics/conversations?q=\(encoded)&from=\(RFC3339.string(from: Date().addingTimeInterval(-200 * 86_400)))\(extra)", token: tenant.admin)
                return Set(reply.data.compactMap { $0["id"] as? String })
            }
            #expect(try await found("申请退货") == [refund.id.description], "four characters, through the trigram index")
            #expect(try await found("想申请") == [refund.id.description], "three characters")
            #expect(try await found("退货") == [refund.id.description], "two characters: the bounded recent scan; not the old one")
            #expect(try await found("票") == [invoice.id.description], "one character, in either side's messages")
            #expect(try await found("a-100") == [refund.id.description], "case-insensitive")
            #expect(try await found("100%") == [], "LIKE wildcards are literal")
            #expect(try await found("发票", extra: "&agent_id=\(EmployeeID())") == [], "with the other filters")
            #expect(try await found("没有的词") == [])
            let long = String(repeating: "长", count: 101)
            #expect(try await h.call(.get, "/v1/analytics/conversations?q=\(long.addingPercentEncoding(withAllowedCharacters: Self.unreserved)!)", token: tenant.admin).fields == ["q"])
        }
    }

    @Test func durationsComeFromTheStateIntervals() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(tenant)
            let t0 = Date().addingTimeInterval(-86_400).rounded()
            func change(_ status: AgentStatus, _ reception: ReceptionSwitch, at seconds: Double) -> AgentStateChanged {
                AgentStateChanged(agentId: agent, status: status, reception: reception, previousStatus: .offline, previousReception: .off,
                                  changedAt: t0.addingTimeInterval(seconds))
            }
            // Online with reception on for 600 s, off for 300 s, suspended 120 s, offline; the
            // middle change arrives last (a late event splits the interval).
            try await h.publish([change(.online, .on, at: 0), change(.suspended, .off, at: 900), change(.offline, .off, at: 1020)], in: tenant)
            try await h.publish(change(.online, .off, at: 600), in: tenant)
            try await h.settled(tenant)
            let period = "from=\(RFC3339.string(from: t0.addingTimeInterval(-60)))&to=\(RFC3339.string(from: t0.addingTimeInterval(3600)))"
            let row = try #require(try await h.get("/v1/analytics/agents/durations?\(period)", token: tenant.admin).data.first)
            #expect(row["online_seconds"] as? Double == 900 && row["reception_on_seconds"] as? Double == 600 && row["suspended_seconds"] as? Double == 120)
            // A period cutting an interval counts only its part.
            let cut = "from=\(RFC3339.string(from: t0.addingTimeInterval(300)))&to=\(RFC3339.string(from: t0.addingTimeInterval(700)))"
            let part = try #require(try await h.get("/v1/analytics/agents/durations?\(cut)", token: tenant.admin).data.first)
            #expect(part["online_seconds"] as? Double == 400 && part["reception_on_seconds"] as? Double == 300)
        }
    }
}
