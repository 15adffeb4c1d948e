import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Rules read the visitor's arrival on the tenant's clock (reception's `time_zone`), not UTC.
@Suite struct TimeZoneTests {
    /// A tenant whose rule sends visitors arriving in this hour (or the next) of Pacific/Kiritimati
    /// (UTC+14, so never the same hour in UTC) to one group, and everyone else to another.
    func ruleOnKiritimatiHours(_ h: RoutingHarness, zone: String) async throws -> (key: String, ruled: RoutingHarness.Agent) {
        let tenant = try await h.tenant()
        let ruled = try await h.agent(in: tenant, name: "Ruled"), other = try await h.agent(in: tenant, name: "Other")
        let ruledGroup = try await h.groupWidget(in: tenant, members: [ruled]).group
        let otherGroup = try await h.groupWidget(in: tenant, members: [other]).group
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Pacific/Kiritimati")!
        let hour = calendar.component(.hour, from: Date())
        let settings = try await h.reception.call(.put, "/v1/reception/conversation-settings", token: tenant.admin, json: [
            "timeout_minutes": 30, "topics": [String](), "high_quality": ["min_visitor_messages": 1, "min_agent_messages": 1], "time_zone": zone,
        ])
        try #require(settings.status == .ok, "\(settings.text)")
        let rule = try await h.reception.call(.post, "/v1/assignment-rules", token: tenant.admin, json: [
            "name": "Kiritimati", "enabled": true,
            "conditions": ["join": "all", "conditions": [[
                "field": "visitor.visit_time", "op": "between", "value": [String(format: "%02d:00", hour), String(format: "%02d:59", (hour + 1) % 24)],
            ]]],
            "targets": [["type": "group", "id": ruledGroup]],
        ])
        try #require(rule.status == .created, "\(rule.text)")
        let defaults = try await h.reception.call(.put, "/v1/reception/assignment-settings", token: tenant.admin, json: [
            "owner_first": false, "default_target": ["type": "group", "id": otherGroup],
        ])
        try #require(defaults.status == .ok, "\(defaults.text)")
        let widget = try await h.reception.call(.post, "/v1/widgets", token: tenant.admin, json: [
            "name": "Rules", "style": "icon", "colour": "#12AB34", "pre_assignment_messages": [String](), "guide_rules_enabled": false,
            "reception": ["mode": "rules"], "mount_positions": [[String: Any]](), "extra_entries": [[String: Any]](),
        ])
        try #require(widget.status == .created, "\(widget.text)")
        try await h.online(ruled)
        try await h.online(other)
        return (widget.string("public_key")!, ruled)
    }

    @Test func visitTimeRulesReadTheTenantsClock() async throws {
        try await RoutingHarness.run { h in
            let kiritimati = try await ruleOnKiritimatiHours(h, zone: "Pacific/Kiritimati")
            let there = try await h.start(try await h.visitor(kiritimati.key))
            #expect(there.agentID == kiritimati.ruled.id.description, "the rule matched on Kiritimati's clock: \(there.text)")

            let utc = try await ruleOnKiritimatiHours(h, zone: "UTC")
            let here = try await h.start(try await h.visitor(utc.key))
            #expect(here.string("status") == "open" && here.agentID != utc.ruled.id.description, "on UTC's clock it does not: \(here.text)")
        }
    }
}
