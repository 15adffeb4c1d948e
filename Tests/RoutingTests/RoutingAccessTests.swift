import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Every routing route: credentials, permission, and another tenant's (or visitor's) ids 404.
@Suite struct RoutingAccessTests {
    /// Employee routes; `{conversation}` is filled with a conversation of the tenant.
    static let employeeRoutes: [(HTTPRequest.Method, String, [String: any Sendable]?, Permission?)] = [
        (.get, "/v1/agents/me/state", nil, nil),
        (.put, "/v1/agents/me/state", ["status": "online"], .clientLogin),
        (.get, "/v1/agents", nil, .analyticsMonitoring),
        (.get, "/v1/conversations", nil, .clientLogin),
        (.get, "/v1/conversations/{conversation}", nil, .clientLogin),
        (.get, "/v1/conversations/{conversation}/messages", nil, .clientLogin),
        (.post, "/v1/conversations/{conversation}/messages", ["body": ["type": "text", "text": "x"]], .clientLogin),
        (.post, "/v1/conversations/{conversation}/end", nil, .clientLogin),
        (.post, "/v1/conversations/{conversation}/pick-up", nil, .clientLogin),
        (.patch, "/v1/conversations/{conversation}", ["resolved": true], .clientLogin),
        (.post, "/v1/conversations/{conversation}/transfer", ["to_group_id": UUID().uuidString], .clientLogin),
        (.post, "/v1/conversations/{conversation}/satisfaction-request", nil, .clientLogin),
        (.post, "/v1/conversations/{conversation}/forced-transfer", ["to_group_id": UUID().uuidString], .analyticsForcedTransfer),
        (.post, "/v1/conversations/{conversation}/interrupt", ["note": "x"], .analyticsForcedTransfer),
        (.get, "/v1/monitor/conversations", nil, .analyticsMonitoring),
        (.get, "/v1/queue", nil, .receptionQueue),
        (.delete, "/v1/queue/{conversation}", nil, .receptionQueue),
        (.get, "/v1/socket", nil, .clientLogin),
    ]

    static let visitorRoutes: [(HTTPRequest.Method, String, [String: any Sendable]?)] = [
        (.post, "/v1/visitor/page-views", ["url": "https://a.example/"]),
        (.post, "/v1/visitor/conversations", [String: String]()),
        (.get, "/v1/visitor/conversations/{conversation}", nil),
        (.get, "/v1/visitor/conversations/{conversation}/messages", nil),
        (.post, "/v1/visitor/conversations/{conversation}/messages", ["body": ["type": "text", "text": "x"]]),
        (.post, "/v1/visitor/conversations/{conversation}/end", nil),
        (.post, "/v1/visitor/conversations/{conversation}/rating", ["stars": 5, "solved": true]),
        (.get, "/v1/visitor/socket", nil),
    ]

    func body(_ body: [String: any Sendable]?) -> [String: Any]? { body?.mapValues { $0 as Any } }

    @Test func everyRouteNeedsItsCredentialsAndPermission() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            let visitor = try await h.visitor(key)
            let conversation = try await h.start(visitor).id!
            let nobody = try await TestKeys.shared.token(tenant: tenant.id, permissions: [])
            for (method, template, payload, permission) in Self.employeeRoutes {
                let path = template.replacingOccurrences(of: "{conversation}", with: conversation)
                #expect(try await h.routing.call(method, path, json: body(payload)).status == .unauthorized, "\(method) \(path)")
                #expect(try await h.routing.call(method, path, token: visitor.token, json: body(payload)).status == .unauthorized,
                        "\(method) \(path): a visitor token is no employee")
                if permission != nil {
                    let refused = try await h.routing.call(method, path, token: nobody, json: body(payload))
                    #expect(refused.status == .forbidden, "\(method) \(path) without \(permission!)")
                }
            }
            for (method, template, payload) in Self.visitorRoutes {
                let path = template.replacingOccurrences(of: "{conversation}", with: conversation)
                #expect(try await h.routing.call(method, path, json: body(payload)).status == .unauthorized, "\(method) \(path)")
                #expect(try await h.routing.call(method, path, token: agent.token, json: body(payload)).status == .unauthorized,
                        "\(method) \(path): an employee token is no visitor")
                #expect(try await h.routing.call(method, path, token: "kefu_vt.forged.token", json: body(payload)).status == .unauthorized)
            }
            // Nothing was changed by the refused requests.
            #expect(try await h.routing.call(.get, "/v1/visitor/conversations/\(conversation)", token: visitor.token).string("status") == "queued")
        }
    }

    @Test func anotherTenantsOrVisitorsConversationsDoNotExist() async throws {
        try await RoutingHarness.run { h in
            let victim = try await h.tenant()
            let agent = try await h.agent(in: victim)
            let (_, key) = try await h.groupWidget(in: victim, members: [agent])
            try await h.online(agent)
            let visitor = try await h.visitor(key)
            let conversation = try await h.start(visitor).id!

            let attacker = try await h.tenant()
            let outsider = try await h.agent(in: attacker)
            let (_, otherKey) = try await h.groupWidget(in: attacker, members: [outsider])
            let otherVisitor = try await h.visitor(otherKey)
            for (method, template, payload, _) in Self.employeeRoutes where template.contains("{conversation}") {
                let path = template.replacingOccurrences(of: "{conversation}", with: conversation)
                let reply = try await h.routing.call(method, path, token: attacker.admin, json: body(payload))
                #expect(reply.status == .notFound, "\(method) \(path) from another tenant: \(reply.status)")
            }
            // Another visitor of the same tenant, and a visitor of another tenant, see nothing of it.
            let neighbour = try await h.visitor(key)
            for stranger in [neighbour, otherVisitor] {
                for (method, template, payload) in Self.visitorRoutes where template.contains("{conversation}") {
                    let path = template.replacingOccurrences(of: "{conversation}", with: conversation)
                    let reply = try await h.routing.call(method, path, token: stranger.token, json: body(payload))
                    #expect(reply.status == .notFound, "\(method) \(path) by another visitor: \(reply.status)")
                }
            }
            // A colleague without the conversation does not see it either.
            let colleague = try await h.agent(in: victim)
            #expect(try await h.routing.call(.get, "/v1/conversations/\(conversation)", token: colleague.token).status == .notFound)
            #expect(try await h.routing.call(.post, "/v1/conversations/\(conversation)/end", token: colleague.token).status == .notFound)
            // Untouched.
            let seen = try await h.routing.call(.get, "/v1/conversations/\(conversation)", token: agent.token)
            #expect(seen.string("status") == "open")
            #expect(seen.json["last_seq"] as? Int == 0)
            // The attacker's queue and agents lists hold nothing of the victim.
            let queue = try await h.routing.call(.get, "/v1/queue", token: attacker.admin)
            #expect(!queue.text.contains(conversation))
            let agents = try await h.routing.call(.get, "/v1/agents", token: attacker.admin)
            #expect(!agents.text.contains(agent.id.description))
            let monitored = try await h.routing.call(.get, "/v1/monitor/conversations", token: attacker.admin)
            #expect(monitored.status == .ok && !monitored.text.contains(conversation))
            #expect(try await h.routing.call(.get, "/v1/monitor/conversations", token: victim.admin).text.contains(conversation))
            // A target in another tenant does not exist either (422 on the field, nothing moved).
            let (otherGroup, _) = try await h.groupWidget(in: attacker, members: [outsider])
            try await h.online(outsider)
            for (field, target) in [("to_agent_id", outsider.id.description), ("to_group_id", otherGroup)] {
                let moved = try await h.routing.call(.post, "/v1/conversations/\(conversation)/transfer", token: agent.token, json: [field: target])
                #expect(moved.status == .unprocessableContent && moved.fields == [field], "\(moved.text)")
                let forced = try await h.routing.call(.post, "/v1/conversations/\(conversation)/forced-transfer", token: victim.admin, json: [field: target])
                #expect(forced.status == .unprocessableContent && forced.fields == [field], "\(forced.text)")
            }
        }
    }
}
