import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

@Suite struct SnapshotAndSettingsTests {
    @Test func everyWriteBumpsTheVersionAndPublishesAChange() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let empty = try await h.call(.get, "/v1/reception/snapshot", token: tenant.admin)
            #expect(empty.status == .ok && empty.json["version"] as? Int == 0)
            #expect((empty.json["conversation"] as? [String: Any])?["timeout_minutes"] as? Int == 30)

            let channel = try await h.create("/v1/channels", token: tenant.admin, Bodies.webChannel("Site"))
            let group = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("G"))
            let widget = try await h.create("/v1/widgets", token: tenant.admin, Bodies.widget("W", mode: ["mode": "group", "group_id": group]))
            let rule = try await h.create("/v1/guide-rules", token: tenant.admin, Bodies.guideRule("R"))
            _ = try await h.call(.put, "/v1/widgets/\(widget)", token: tenant.admin, json: Bodies.widget("W2", mode: ["mode": "group", "group_id": group]))
            _ = try await h.call(.put, "/v1/guide-rules/order", token: tenant.admin, json: ["ids": [rule]])
            _ = try await h.call(.put, "/v1/reception/fallback", token: tenant.admin, json: [
                "mode": "leave_message", "queue": ["enabled": true, "max_length": 5, "max_wait_seconds": 60], "leave_message_prompt": "Leave us a note",
            ])
            _ = try await h.call(.delete, "/v1/channels/\(channel)", token: tenant.admin)

            let events = try await h.configEvents(tenant)
            #expect(events.map(\.version) == Array(1...8))
            #expect(events.map(\.kind) == ["channel", "group", "widget", "guide_rule", "widget", "guide_rule", "settings.fallback", "channel"])
            #expect(events.map(\.action) == ["created", "created", "created", "created", "updated", "reordered", "updated", "deleted"])
            #expect(events.first?.id?.uuidString.lowercased() == channel)

            let snapshot = try await h.call(.get, "/v1/reception/snapshot", token: tenant.admin)
            let decoded = try KefuJSON.decoder().decode(ReceptionSnapshot.self, from: snapshot.body)
            #expect(decoded.version == 8 && snapshot.headers[.eTag] == "\"8\"")
            #expect(decoded.channels.isEmpty && decoded.groups.count == 1 && decoded.widgets.first?.document.name == "W2")
            #expect(decoded.guideRules.count == 1 && decoded.fallback.mode == .leaveMessage)

            // Replicas holding the current version get a 304.
            let unchanged = try await h.call(.get, "/v1/reception/snapshot", token: tenant.admin, headers: [.ifNoneMatch: "\"8\""])
            #expect(unchanged.status == .notModified)
            _ = try await h.create("/v1/materials", token: tenant.admin, ["title": "M", "content": ["type": "text", "text": "x"]])
            let changed = try await h.call(.get, "/v1/reception/snapshot", token: tenant.admin, headers: [.ifNoneMatch: "\"8\""])
            #expect(changed.status == .ok && changed.json["version"] as? Int == 9 && (changed.json["materials"] as? [Any])?.count == 1)
        }
    }

    @Test func aMinimumVersionIsAlwaysHonoured() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            _ = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("G1"))
            // Once this process has heard of version 1, reads asking for it come from memory.
            #expect(try await h.eventually {
                try await h.call(.get, "/v1/reception/snapshot?min_version=1", token: tenant.admin).json["version"] as? Int == 1
            })
            for expected in 2...6 {
                _ = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("G\(expected)"))
                // Asked right after the write, before the event can have arrived: never older.
                let read = try await h.call(.get, "/v1/reception/snapshot?min_version=\(expected)", token: tenant.admin)
                #expect(read.json["version"] as? Int == expected && (read.json["groups"] as? [Any])?.count == expected)
            }
            #expect(try await h.call(.get, "/v1/reception/snapshot?min_version=-1", token: tenant.admin).fields == ["min_version"])
        }
    }

    @Test func routingReadsSnapshotsWithThePlatformToken() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            _ = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("G"))
            let missing = try await h.call(.get, "/v1/reception/snapshot", token: TestEnvironment.platformToken)
            #expect(missing.status == .unprocessableContent && missing.fields == ["tenant_id"])
            let read = try await h.call(.get, "/v1/reception/snapshot?tenant_id=\(tenant.id)", token: TestEnvironment.platformToken)
            #expect(read.status == .ok && (read.json["groups"] as? [Any])?.count == 1)
        }
    }

    @Test func settingsHaveDefaultsAndAreValidated() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let survey = try await h.call(.get, "/v1/reception/satisfaction-survey", token: tenant.admin)
            #expect((survey.json["levels"] as? [Any])?.count == 5 && survey.json["ask_solved"] as? Bool == true)

            let settings: [String: Any] = [
                "timeout_minutes": 45, "topics": ["Billing", "Billing", "Delivery"],
                "high_quality": ["min_visitor_messages": 4, "min_agent_messages": 4, "max_first_response_seconds": 30, "min_satisfaction_stars": 5],
            ]
            let saved = try await h.call(.put, "/v1/reception/conversation-settings", token: tenant.admin, json: settings)
            #expect(saved.status == .ok && saved.json["topics"] as? [String] == ["Billing", "Delivery"])
            #expect(saved.json["time_zone"] as? String == "Asia/Shanghai", "the default clock")
            let zoned = try await h.call(.put, "/v1/reception/conversation-settings", token: tenant.admin,
                                         json: settings.merging(["time_zone": "Europe/Paris"]) { $1 })
            #expect(zoned.status == .ok && zoned.json["time_zone"] as? String == "Europe/Paris", "\(zoned.text)")
            let nowhere = try await h.call(.put, "/v1/reception/conversation-settings", token: tenant.admin,
                                           json: settings.merging(["time_zone": "Mars/Olympus_Mons"]) { $1 })
            #expect(nowhere.status == .unprocessableContent && nowhere.fields == ["time_zone"], "\(nowhere.text)")
            #expect(try await h.call(.get, "/v1/reception/conversation-settings", token: tenant.admin).json["timeout_minutes"] as? Int == 45)

            let bad = try await h.call(.put, "/v1/reception/conversation-settings", token: tenant.admin, json: [
                "timeout_minutes": 45, "topics": [String(repeating: "t", count: 31)],
                "high_quality": ["min_visitor_messages": 4, "min_agent_messages": -1, "min_satisfaction_stars": 6],
            ])
            #expect(Set(bad.fields) == ["topics[0]", "high_quality.min_agent_messages", "high_quality.min_satisfaction_stars"])
            // Postgres cannot store U+0000: refused up front, naming the field, not a 500.
            let nul = try await h.call(.put, "/v1/reception/conversation-settings", token: tenant.admin, json: [
                "timeout_minutes": 45, "topics": ["ok", "a\u{0}b"], "high_quality": ["min_visitor_messages": 4, "min_agent_messages": 4],
            ])
            #expect(nul.status == .unprocessableContent && nul.fields == ["topics[1]"] && nul.text.contains("invalid_characters"))
            // An escaped backslash before "u0000" is ordinary text.
            let literal = try await h.call(.put, "/v1/reception/conversation-settings", token: tenant.admin, json: [
                "timeout_minutes": 45, "topics": ["C:\\u0000"], "high_quality": ["min_visitor_messages": 4, "min_agent_messages": 4],
            ])
            #expect(literal.status == .ok && literal.json["topics"] as? [String] == ["C:\\u0000"])

            let engagement: [String: Any] = [
                "anti_leak": ["enabled": true, "remind_after_seconds": 45],
                "invitation": ["enabled": true, "delay_seconds": 20, "message": "Need help?", "max_per_visit": 2],
                "lead_capture": ["enabled": true, "when": ["before_chat", "no_agent"], "prompt": "Your details, please",
                                 "questions": [["field": "phone", "required": true], ["field": "company", "required": false]]],
            ]
            #expect(try await h.call(.put, "/v1/reception/engagement", token: tenant.admin, json: engagement).status == .ok)
            let snapshot = try await h.call(.get, "/v1/reception/snapshot", token: tenant.admin)
            #expect(((snapshot.json["engagement"] as? [String: Any])?["invitation"] as? [String: Any])?["max_per_visit"] as? Int == 2)
            var badEngagement = engagement
            badEngagement["lead_capture"] = ["enabled": true, "when": [String](), "prompt": "x",
                                             "questions": [["field": "phone", "required": true], ["field": "phone", "required": false]]]
            let rejected = try await h.call(.put, "/v1/reception/engagement", token: tenant.admin, json: badEngagement)
            #expect(Set(rejected.fields) == ["lead_capture.when", "lead_capture.questions"], "\(rejected.fields)")

            let group = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("G"))
            let widgetFallback = Bodies.widget("W").merging(["fallback": ["mode": "bot", "queue": ["enabled": false, "max_length": 1, "max_wait_seconds": 10], "leave_message_prompt": "Bye"]]) { $1 }
            let widget = try await h.call(.post, "/v1/widgets", token: tenant.admin, json: widgetFallback)
            #expect(widget.status == .created && (widget.json["fallback"] as? [String: Any])?["mode"] as? String == "bot")
            let assignment = try await h.call(.put, "/v1/reception/assignment-settings", token: tenant.admin, json: [
                "owner_first": false, "default_target": ["type": "group", "id": group],
            ])
            #expect(assignment.status == .ok && assignment.json["owner_first"] as? Bool == false)
            // The default target keeps its group from being deleted.
            let inUse = try await h.call(.delete, "/v1/groups/\(group)", token: tenant.admin)
            #expect(inUse.status == .conflict && inUse.code == "in_use" && inUse.text.contains("settings.assignment"))
        }
    }
}
