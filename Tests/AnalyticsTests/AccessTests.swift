import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Permissions (403), credentials (401), other tenants' ids (404) and the organisation scope on
/// every analytics route.
@Suite struct AccessTests {
    static let routes: [(path: String, permission: Permission)] = [
        ("/v1/analytics/conversations", .analyticsRecords),
        ("/v1/analytics/agents", .analyticsAgents),
        ("/v1/analytics/agents/durations", .analyticsAgents),
        ("/v1/analytics/agents/satisfaction", .analyticsAgents),
        ("/v1/analytics/agents/funnel", .analyticsAgents),
        ("/v1/analytics/sessions?by=hour", .analyticsSessions),
        ("/v1/analytics/widgets", .analyticsSessions),
        ("/v1/analytics/monitor", .analyticsMonitoring),
    ]

    @Test func everyRouteNeedsItsPermissionAndCSVNeedsExport() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            for (path, permission) in Self.routes {
                #expect(try await h.call(.get, path, token: nil).status == .unauthorized, "\(path)")
                let others = AnalyticsHarness.allPermissions.subtracting([permission])
                let refused = try await h.call(.get, path, token: try await h.token(tenant, others))
                #expect(refused.status == .forbidden, "\(path) without \(permission)")
                let only = try await h.token(tenant, [permission])
                #expect(try await h.call(.get, path, token: only).status == .ok, "\(path) with \(permission)")
                let separator = path.contains("?") ? "&" : "?"
                #expect(try await h.call(.get, path + separator + "format=csv", token: only).status == .forbidden, "\(path) CSV without export")
                let csv = try await h.call(.get, path + separator + "format=csv", token: try await h.token(tenant, [permission, .analyticsExport]))
                #expect(csv.status == .ok && csv.headers[.contentType]?.hasPrefix("text/csv") == true, "\(path) CSV")
                #expect(try await h.call(.get, path + separator + "format=xml", token: only).fields == ["format"])
            }
            #expect(try await h.call(.get, "/v1/analytics/conversations?agent_id=nope", token: tenant.admin).fields == ["agent_id"])
            #expect(try await h.call(.get, "/v1/analytics/agents?from=2026-02-01&to=2026-01-01", token: tenant.admin).fields == ["from"])
        }
    }

    @Test func anotherTenantsConversationIsNotFound() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant(), other = try await h.tenant()
            let agent = try await h.agent(other)
            var c = ConversationScript(at: Date().addingTimeInterval(-60).rounded())
            c.say(.visitor, "hi", at: 1)
            c.assign(agent, at: 2)
            try await h.publish(c.events, in: other)
            try await h.settled(other)
            #expect(try await h.call(.get, "/v1/analytics/conversations/\(c.id)", token: other.admin).status == .ok)
            #expect(try await h.call(.get, "/v1/analytics/conversations/\(c.id)", token: tenant.admin).status == .notFound)
            #expect(try await h.call(.get, "/v1/analytics/conversations/not-an-id", token: tenant.admin).status == .notFound)
            #expect(try await h.call(.get, "/v1/analytics/conversations?id=\(c.id)", token: tenant.admin).data.isEmpty)
            #expect(try await h.get("/v1/analytics/agents", token: tenant.admin).data.isEmpty, "no agents of the other tenant")
            #expect(try await h.get("/v1/analytics/monitor", token: tenant.admin).json["ongoing"] as? Int == 0)
        }
    }

    @Test func aDepartmentSupervisorSeesItsAgentsOnly() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let sales = UUID(), east = UUID(), support = UUID()
            try await h.publish([
                DepartmentChanged(departmentId: sales, name: "Sales", parentId: nil, exists: true),
                DepartmentChanged(departmentId: east, name: "East", parentId: sales, exists: true),
                DepartmentChanged(departmentId: support, name: "Support", parentId: nil, exists: true),
            ], in: tenant)
            let seller = try await h.agent(tenant, department: sales), eastern = try await h.agent(tenant, department: east)
            let helper = try await h.agent(tenant, department: support)
            var scripts: [ConversationScript] = []
            for (i, agent) in [seller, eastern, helper].enumerated() {
                var c = ConversationScript(at: Date().addingTimeInterval(Double(-600 + i)).rounded())
                c.say(.visitor, "hi", at: 1)
                c.assign(agent, at: 2)
                c.say(.agent, "hello", at: 5, agent: agent)
                scripts.append(c)
            }
            // Handed from support to sales before the reply: sales' supervisor sees it too.
            var shared = ConversationScript(at: Date().addingTimeInterval(-300).rounded())
            shared.say(.visitor, "hi", at: 1)
            shared.assign(helper, at: 2)
            shared.assign(seller, at: 3, reason: .transfer, previous: helper)
            try await h.publish((scripts + [shared]).flatMap(\.events), in: tenant)
            try await h.publish(AgentStateChanged(agentId: helper, status: .online, reception: .on, previousStatus: .offline,
                                                  previousReception: .off, changedAt: Date()), in: tenant)
            try await h.settled(tenant)

            let supervisor = try await h.token(tenant, department: sales)
            let records = Set(try await h.get("/v1/analytics/conversations", token: supervisor).data.compactMap { $0["id"] as? String })
            #expect(records == Set([scripts[0].id, scripts[1].id, shared.id].map(\.description)))
            let agents = Set(try await h.get("/v1/analytics/agents", token: supervisor).data.compactMap { $0["agent_id"] as? String })
            #expect(agents == [seller.description, eastern.description], "the department and below")
            #expect(try await h.call(.get, "/v1/analytics/conversations/\(scripts[2].id)", token: supervisor).status == .notFound)
            let monitor = try await h.get("/v1/analytics/monitor", token: supervisor)
            #expect(Set((monitor.json["agents"] as? [[String: Any]] ?? []).compactMap { $0["agent_id"] as? String }) == [seller.description, eastern.description])
            let sessions = try await h.get("/v1/analytics/sessions?by=channel", token: supervisor)
            #expect((sessions.json["totals"] as? [String: Any])?["conversations"] as? Int == 3)
            let company = try await h.get("/v1/analytics/sessions?by=channel", token: tenant.admin)
            #expect((company.json["totals"] as? [String: Any])?["conversations"] as? Int == 4)
        }
    }
}
