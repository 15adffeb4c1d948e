import Foundation
import HTTPTypes
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Every reception route: 401 without credentials, 403 without its permission, 404 for another
/// tenant's ids (never revealing they exist), and 422 naming the field for a bad body, with
/// nothing written.
@Suite struct ReceptionAccessTests {
    struct Route: CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        /// A valid body (placeholders filled), for routes that take one.
        let body: [String: Any]?
        /// A body with one bad field, and that field's name in the 422.
        let bad: (body: [String: Any], field: String)?
        /// nil for routes any signed-in employee may use.
        let permission: Permission?

        var description: String { "\(method) \(path)" }
    }

    nonisolated(unsafe) static let routes: [Route] = {
        var routes: [Route] = []
        func crud(_ path: String, _ placeholder: String, _ permission: Permission?, body: [String: Any], bad: (body: [String: Any], field: String)) {
            routes += [
                Route(method: .get, path: path, body: nil, bad: nil, permission: permission),
                Route(method: .post, path: path, body: body, bad: bad, permission: permission),
                Route(method: .get, path: "\(path)/{\(placeholder)}", body: nil, bad: nil, permission: permission),
                Route(method: .put, path: "\(path)/{\(placeholder)}", body: body, bad: bad, permission: permission),
                Route(method: .delete, path: "\(path)/{\(placeholder)}", body: nil, bad: nil, permission: permission),
            ]
        }
        crud("/v1/channels", "channel", .receptionChannels, body: ["name": "C", "type": "web", "enabled": true],
             bad: (["name": "", "type": "web", "enabled": true], "name"))
        crud("/v1/materials", "material", .receptionChannels, body: ["title": "M", "content": ["type": "text", "text": "hi"]],
             bad: (["title": "M", "content": ["type": "image"]], "content.image_url"))
        crud("/v1/widgets", "widget", .receptionWidgets, body: ["name": "W", "style": "link", "colour": "#000000",
             "pre_assignment_messages": [String](), "guide_rules_enabled": false, "reception": ["mode": "rules"],
             "mount_positions": [[String: String]](), "extra_entries": [[String: String]]()],
             bad: (["name": "W", "style": "link", "colour": "red", "pre_assignment_messages": [String](), "guide_rules_enabled": false,
                    "reception": ["mode": "rules"], "mount_positions": [[String: String]](), "extra_entries": [[String: String]]()], "colour"))
        crud("/v1/groups", "group", .receptionGroups, body: ["name": "G", "member_ids": [String](), "per_agent_limit": 3,
             "queue": ["enabled": true, "max_length": 10, "max_wait_seconds": 60]],
             bad: (["name": "G", "member_ids": [String](), "per_agent_limit": 0, "queue": ["enabled": true, "max_length": 10, "max_wait_seconds": 60]], "per_agent_limit"))
        let rule: [String: Any] = ["name": "R", "enabled": true, "conditions": ["join": "any", "conditions": [[String: String]]()],
                                            "messages": [["interval_seconds": 1, "content": ["type": "text", "text": "hi"]]]]
        crud("/v1/guide-rules", "guide", .receptionGuideRules, body: rule,
             bad: (["name": "R", "enabled": true, "conditions": ["join": "all", "conditions": [["field": "visitor.nope", "op": "equals", "value": "x"]]],
                    "messages": [["interval_seconds": 1, "content": ["type": "text", "text": "hi"]]]], "conditions[0].field"))
        routes.append(Route(method: .put, path: "/v1/guide-rules/order", body: ["ids": ["{guide}"]], bad: (["ids": "x"], "ids"), permission: .receptionGuideRules))
        let assignment: [String: Any] = ["name": "A", "enabled": true, "conditions": ["join": "all", "conditions": [[String: String]]()],
                                                  "targets": [["type": "owner"]]]
        crud("/v1/assignment-rules", "assignment", .receptionAssignmentRules, body: assignment,
             bad: (["name": "A", "enabled": true, "conditions": ["join": "all", "conditions": [[String: String]]()], "targets": [[String: String]]()], "targets"))
        routes.append(Route(method: .put, path: "/v1/assignment-rules/order", body: ["ids": ["{assignment}"]], bad: (["ids": [1]], "ids[0]"), permission: .receptionAssignmentRules))
        crud("/v1/quick-replies", "quick", .receptionQuickReplies, body: ["category": "C", "text": "T"],
             bad: (["category": "C", "text": String(repeating: "x", count: 1001)], "text"))
        crud("/v1/me/quick-replies", "personal", nil, body: ["category": "C", "text": "T"], bad: (["category": "", "text": "T"], "category"))
        routes += [
            Route(method: .get, path: "/v1/channels/{channel}/auto-reply", body: nil, bad: nil, permission: .receptionChannels),
            Route(method: .put, path: "/v1/channels/{channel}/auto-reply", body: ["keyword_replies": [[String: String]](), "menu": [[String: String]]()],
                  bad: (["keyword_replies": [[String: String]](), "menu": [["name": "Too long a name"]]], "menu[0].name"), permission: .receptionChannels),
            Route(method: .get, path: "/v1/reception/fallback", body: nil, bad: nil, permission: .receptionQueue),
            Route(method: .put, path: "/v1/reception/fallback", body: ["mode": "leave_message", "queue": ["enabled": true, "max_length": 5, "max_wait_seconds": 60], "leave_message_prompt": "Leave a message"],
                  bad: (["mode": "queue", "queue": ["enabled": true, "max_length": 0, "max_wait_seconds": 60], "leave_message_prompt": "x"], "queue.max_length"), permission: .receptionQueue),
            Route(method: .get, path: "/v1/reception/assignment-settings", body: nil, bad: nil, permission: .receptionAssignmentRules),
            Route(method: .put, path: "/v1/reception/assignment-settings", body: ["owner_first": false],
                  bad: (["owner_first": true, "default_target": ["type": "group"]], "default_target.id"), permission: .receptionAssignmentRules),
            Route(method: .get, path: "/v1/reception/conversation-settings", body: nil, bad: nil, permission: .receptionSettings),
            Route(method: .put, path: "/v1/reception/conversation-settings", body: ["timeout_minutes": 20, "topics": ["Billing"],
                  "high_quality": ["min_visitor_messages": 2, "min_agent_messages": 2]],
                  bad: (["timeout_minutes": 0, "topics": [String](), "high_quality": ["min_visitor_messages": 2, "min_agent_messages": 2]], "timeout_minutes"), permission: .receptionSettings),
            Route(method: .get, path: "/v1/reception/engagement", body: nil, bad: nil, permission: .receptionSettings),
            Route(method: .put, path: "/v1/reception/engagement", body: ["anti_leak": ["enabled": true, "remind_after_seconds": 60],
                  "invitation": ["enabled": false, "delay_seconds": 30, "message": "Hi", "max_per_visit": 1],
                  "lead_capture": ["enabled": false, "when": ["no_agent"], "prompt": "Details", "questions": [["field": "phone", "required": true]]]],
                  bad: (["anti_leak": ["enabled": true, "remind_after_seconds": 1],
                         "invitation": ["enabled": false, "delay_seconds": 30, "message": "Hi", "max_per_visit": 1],
                         "lead_capture": ["enabled": false, "when": ["no_agent"], "prompt": "Details", "questions": [["field": "phone", "required": true]]]],
                        "anti_leak.remind_after_seconds"), permission: .receptionSettings),
            Route(method: .get, path: "/v1/reception/satisfaction-survey", body: nil, bad: nil, permission: .receptionSatisfaction),
            Route(method: .put, path: "/v1/reception/satisfaction-survey", body: ["enabled": true, "ask_solved": true, "send_when": ["agent_ends"],
                  "levels": (1...5).map { ["stars": $0, "title": "L\($0)", "labels": ["ok"]] }],
                  bad: (["enabled": true, "ask_solved": true, "send_when": ["agent_ends"], "levels": [["stars": 1, "title": "One", "labels": [String]()]]], "levels"),
                  permission: .receptionSatisfaction),
            Route(method: .post, path: "/v1/reception/dry-run", body: ["attributes": ["visitor.region": "Shanghai"]],
                  bad: (["attributes": ["visitor.visit_count": "many"]], "attributes.visitor.visit_count"), permission: .receptionAssignmentRules),
            Route(method: .get, path: "/v1/reception/snapshot", body: nil, bad: nil, permission: .receptionSettings),
        ]
        return routes
    }()

    /// One of each item in `tenant`, by placeholder name.
    static func seed(_ h: ReceptionHarness, _ tenant: ReceptionHarness.Tenant) async throws -> [String: String] {
        let admin = tenant.admin
        return [
            "channel": try await h.create("/v1/channels", token: admin, Bodies.officialAccount("OA " + UUID().uuidString.prefix(6))),
            "material": try await h.create("/v1/materials", token: admin, ["title": "M", "content": ["type": "text", "text": "hi"]]),
            "widget": try await h.create("/v1/widgets", token: admin, Bodies.widget("W1")),
            "group": try await h.create("/v1/groups", token: admin, Bodies.group("G1")),
            "guide": try await h.create("/v1/guide-rules", token: admin, Bodies.guideRule("R1")),
            "assignment": try await h.create("/v1/assignment-rules", token: admin, Bodies.assignmentRule("A1")),
            "quick": try await h.create("/v1/quick-replies", token: admin, Bodies.quickReply()),
            "personal": try await h.create("/v1/me/quick-replies", token: admin, Bodies.quickReply()),
        ]
    }

    static func fill(_ path: String, _ ids: [String: String]) -> String {
        ids.reduce(path) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
    }

    static func fill(_ body: [String: Any]?, _ ids: [String: String]) -> Any? {
        guard let body else { return nil }
        let data = try! JSONSerialization.data(withJSONObject: body)
        return try! JSONSerialization.jsonObject(with: Data(fill(String(decoding: data, as: UTF8.self), ids).utf8))
    }

    @Test func everyRouteNeedsCredentialsAndItsPermission() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let ids = try await Self.seed(h, tenant)
            // Holds every permission except reception ones.
            let outsider = try await h.token(tenant, [.customersView, .enterpriseOrganisation])
            for route in Self.routes {
                let path = Self.fill(route.path, ids)
                let body = Self.fill(route.body, ids)
                let anonymous = try await h.call(route.method, path, token: nil, json: body)
                #expect(anonymous.status == .unauthorized, "\(route) without a token: \(anonymous.status)")
                let forbidden = try await h.call(route.method, path, token: outsider, json: body)
                if let permission = route.permission {
                    #expect(forbidden.status == .forbidden, "\(route) without \(permission): \(forbidden.status)")
                    #expect(forbidden.text.contains(permission.rawValue), "\(route): the 403 names \(permission)")
                } else {
                    #expect(forbidden.status != .forbidden && forbidden.status != .unauthorized, "\(route) is open to any employee: \(forbidden.status)")
                }
            }
        }
    }

    @Test func anotherTenantsIDsAreNotFoundAndItsItemsNeverListed() async throws {
        try await ReceptionHarness.run { h in
            let owner = try await h.tenant()
            let other = try await h.tenant()
            let ids = try await Self.seed(h, owner)
            _ = try await Self.seed(h, other)
            for route in Self.routes {
                let path = Self.fill(route.path, ids)
                let reply = try await h.call(route.method, path, token: other.admin, json: Self.fill(route.body, ids))
                if route.path.contains("{") {
                    #expect(reply.status == .notFound, "\(route) with another tenant's id: \(reply.status) \(reply.text)")
                } else {
                    for id in ids.values {
                        #expect(!reply.text.contains(id), "\(route) shows another tenant's \(id)")
                    }
                }
            }
            // Nothing of the owner's was changed or removed by the other tenant's calls.
            for (placeholder, id) in ids {
                let path = Self.routes.first { $0.method == .get && $0.path.hasSuffix("{\(placeholder)}") }!.path
                let reply = try await h.call(.get, Self.fill(path, ids), token: owner.admin)
                #expect(reply.status == .ok, "\(placeholder) \(id) still there: \(reply.status)")
            }
        }
    }

    @Test func badBodiesAre422NamingTheFieldAndWriteNothing() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let ids = try await Self.seed(h, tenant)
            let eventsBefore = try await h.configEvents(tenant).count
            for route in Self.routes {
                guard let bad = route.bad else { continue }
                let reply = try await h.call(route.method, Self.fill(route.path, ids), token: tenant.admin, json: Self.fill(bad.body, ids))
                #expect(reply.status == .unprocessableContent, "\(route): \(reply.status) \(reply.text)")
                #expect(reply.fields.contains(bad.field), "\(route): expected \(bad.field) in \(reply.fields)")
                #expect(reply.headers[.contentType] == "application/problem+json", "\(route)")
            }
            #expect(try await h.configEvents(tenant).count == eventsBefore, "a rejected write published a change")
        }
    }

    @Test func anUnservedMethodIs405NamingTheServedOnes() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let reply = try await h.call(.patch, "/v1/widgets/\(UUID())", token: tenant.admin, json: ["name": "x"])
            #expect(reply.status == .methodNotAllowed && reply.headers[.allow] == "DELETE, GET, PUT")
        }
    }

    @Test func personalQuickRepliesBelongToTheirOwnerAlone() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let mine = try await h.create("/v1/me/quick-replies", token: tenant.admin, Bodies.quickReply("Mine"))
            let colleague = try await h.token(tenant, [])
            #expect(try await h.call(.get, "/v1/me/quick-replies/\(mine)", token: colleague).status == .notFound)
            #expect(try await h.call(.put, "/v1/me/quick-replies/\(mine)", token: colleague, json: Bodies.quickReply("x")).status == .notFound)
            #expect(try await h.call(.delete, "/v1/me/quick-replies/\(mine)", token: colleague).status == .notFound)
            #expect(try await h.call(.get, "/v1/me/quick-replies", token: colleague).data.isEmpty)
            let own = try await h.call(.get, "/v1/me/quick-replies", token: tenant.admin)
            #expect(own.data.map { $0["id"] as? String } == [mine])
        }
    }

    /// Nobody but its owner can change a personal quick reply, so naming an id in one must not
    /// stop an admin deleting that item; the reply keeps its text as written.
    @Test func aPersonalQuickReplyNamingAnItemDoesNotBlockItsDelete() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let group = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("Sales"))
            let material = try await h.create("/v1/materials", token: tenant.admin, ["title": "M", "content": ["type": "text", "text": "hi"]])
            let agent = try await h.token(tenant, [])
            let text = "see \(group) and \(material)"
            let personal = try await h.create("/v1/me/quick-replies", token: agent, Bodies.quickReply(text))
            #expect(try await h.call(.delete, "/v1/groups/\(group)", token: tenant.admin).status == .noContent)
            #expect(try await h.call(.delete, "/v1/materials/\(material)", token: tenant.admin).status == .noContent)
            #expect(try await h.call(.get, "/v1/me/quick-replies/\(personal)", token: agent).json["text"] as? String == text)
            // A tenant-wide item, which admins can edit, still blocks.
            let kept = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("Support"))
            _ = try await h.create("/v1/quick-replies", token: tenant.admin, Bodies.quickReply("see \(kept)"))
            let blocked = try await h.call(.delete, "/v1/groups/\(kept)", token: tenant.admin)
            #expect(blocked.status == .conflict && blocked.code == "in_use")
        }
    }
}
