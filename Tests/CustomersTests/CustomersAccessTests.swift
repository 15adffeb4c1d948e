import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Every customer-library route: credentials, permission, another tenant's ids and a caller's
/// data scope. Refused requests change nothing.
@Suite struct CustomersAccessTests {
    /// The tenant's items the routes name: a customer (owned by the admin) and another to merge,
    /// a custom field, a view, an entry rule and a scoring rule.
    struct Items {
        let customer: String, other: String, field: String, view: String, entry: String, scoring: String
    }

    static var entryRule: [String: Any] { ["name": "R", "conditions": ["join": "all", "conditions": [
        ["field": "customer.tags", "op": "contains_any", "value": ["vip"]],
    ]]] }
    static var scoringRule: [String: Any] { entryRule.merging(["points": 5]) { $1 } }

    /// Every route with a body it would accept; `ids` marks the ones naming an item of the tenant.
    static func routes(_ i: Items) -> [(method: HTTPRequest.Method, path: String, body: [String: Any]?, ids: Bool)] {
        let c = "/v1/customers/\(i.customer)"
        return [
            (.get, "/v1/customers", nil, false),
            (.post, "/v1/customers", ["name": "X"], false),
            (.get, "/v1/customers/count", nil, false),
            (.post, "/v1/customers/batch", ["ids": [i.customer], "action": "add_tags", "tags": ["x"]], false),
            (.post, "/v1/customers/import", nil, false),
            (.get, "/v1/customers/export", nil, false),
            (.get, c, nil, true),
            (.patch, c, ["title": "Changed"], true),
            (.post, "\(c)/enter", nil, true),
            (.post, "\(c)/claim", nil, true),
            (.post, "\(c)/release", nil, true),
            (.put, "\(c)/owner", ["owner_id": NSNull(), "owner_team_id": NSNull()], true),
            (.post, "\(c)/merge", ["from": [i.other]], true),
            (.get, "\(c)/merges", nil, true),
            (.post, "\(c)/identities", ["kind": "qq", "external_id": "q-\(UUID().uuidString.prefix(6))"], true),
            (.delete, "\(c)/identities?kind=qq&external_id=known", nil, true),
            (.get, "\(c)/follow-ups", nil, true),
            (.post, "\(c)/follow-ups", ["note": "x"], true),
            (.get, "\(c)/trail", nil, true),
            (.get, "\(c)/private-remark", nil, true),
            (.put, "\(c)/private-remark", ["name": "x"], true),
            (.delete, "\(c)/private-remark", nil, true),
            (.put, "\(c)/favourite", nil, true),
            (.delete, "\(c)/favourite", nil, true),
            (.get, "/v1/customer-fields", nil, false),
            (.post, "/v1/customer-fields", ["api_name": "f\(UUID().uuidString.prefix(6).lowercased())", "display_name": "F", "type": "short_text"], false),
            (.get, "/v1/customer-fields/\(i.field)", nil, true),
            (.patch, "/v1/customer-fields/\(i.field)", ["display_name": "Changed"], true),
            (.get, "/v1/customer-views", nil, false),
            (.post, "/v1/customer-views", ["name": "V", "filter": ["join": "all", "conditions": [[String: Any]]()]], false),
            (.get, "/v1/customer-views/\(i.view)", nil, true),
            (.patch, "/v1/customer-views/\(i.view)", ["name": "Changed"], true),
            (.get, "/v1/entry-rules", nil, false),
            (.post, "/v1/entry-rules", entryRule, false),
            (.get, "/v1/entry-rules/\(i.entry)", nil, true),
            (.put, "/v1/entry-rules/\(i.entry)", entryRule, true),
            (.get, "/v1/scoring-rules", nil, false),
            (.post, "/v1/scoring-rules", scoringRule, false),
            (.get, "/v1/scoring-rules/\(i.scoring)", nil, true),
            (.put, "/v1/scoring-rules/\(i.scoring)", scoringRule, true),
            (.get, "/v1/customer-settings", nil, false),
            (.put, "/v1/customer-settings", [String: Any](), false),
            // Deletions last: were one to get through, the checks after it would say so.
            (.delete, "/v1/customer-fields/\(i.field)", nil, true),
            (.delete, "/v1/customer-views/\(i.view)", nil, true),
            (.delete, "/v1/entry-rules/\(i.entry)", nil, true),
            (.delete, "/v1/scoring-rules/\(i.scoring)", nil, true),
            (.delete, c, nil, true),
        ]
    }

    func items(_ h: CustomersHarness, _ tenant: CustomersHarness.Tenant) async throws -> Items {
        let customer = try await h.customer(tenant, ["identities": [["kind": "qq", "external_id": "known"]]])
        let other = try await h.customer(tenant)
        func created(_ path: String, _ json: [String: Any]) async throws -> String {
            let reply = try await h.call(.post, path, token: tenant.admin, json: json)
            try #require(reply.status == .created, "\(path): \(reply.text)")
            return reply.id!
        }
        return Items(
            customer: customer, other: other,
            field: try await created("/v1/customer-fields", ["api_name": "budget", "display_name": "Budget", "type": "number"]),
            view: try await created("/v1/customer-views", ["name": "Mine", "filter": ["join": "all", "conditions": [[String: Any]]()]]),
            entry: try await created("/v1/entry-rules", Self.entryRule), scoring: try await created("/v1/scoring-rules", Self.scoringRule)
        )
    }

    /// What the refused requests must have left as it was.
    func unchanged(_ h: CustomersHarness, _ tenant: CustomersHarness.Tenant, _ i: Items) async throws {
        let shown = try await h.call(.get, "/v1/customers/\(i.customer)", token: tenant.admin)
        #expect(shown.status == .ok && shown.json["title"] == nil && shown.string("owner_id") == tenant.adminID.description, "\(shown.text)")
        #expect((shown.json["identities"] as? [[String: Any]])?.count == 1 && (shown.json["tags"] as? [String] ?? []).isEmpty)
        #expect(try await h.call(.get, "/v1/customers/\(i.other)", token: tenant.admin).status == .ok, "not merged away")
        #expect(try await h.call(.get, "/v1/customers/\(i.customer)/follow-ups", token: tenant.admin).data.isEmpty)
        #expect(try await h.call(.get, "/v1/customer-fields/\(i.field)", token: tenant.admin).string("display_name") == "Budget")
        #expect(try await h.call(.get, "/v1/customer-views/\(i.view)", token: tenant.admin).string("name") == "Mine")
        #expect(try await h.call(.get, "/v1/entry-rules/\(i.entry)", token: tenant.admin).status == .ok)
        #expect(try await h.call(.get, "/v1/scoring-rules/\(i.scoring)", token: tenant.admin).status == .ok)
        #expect(try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int == 2)
    }

    @Test func everyRouteNeedsCredentialsAndAPermission() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let i = try await items(h, tenant)
            let nobody = try await h.token(tenant, [])
            for route in Self.routes(i) {
                #expect(try await h.call(route.method, route.path, token: nil, json: route.body).status == .unauthorized, "\(route.method) \(route.path)")
                let refused = try await h.call(route.method, route.path, token: nobody, json: route.body)
                #expect(refused.status == .forbidden, "\(route.method) \(route.path) without a permission: \(refused.status) \(refused.text)")
            }
            try await unchanged(h, tenant, i)
        }
    }

    @Test func anotherTenantsIdsAndCustomersOutsideTheScopeDoNotExist() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let attacker = try await h.tenant()
            let i = try await items(h, tenant)
            // Every permission, but only the customers they own (none of these).
            let colleague = try await h.token(tenant, scopes: [.mine])
            for route in Self.routes(i) where route.ids {
                let foreign = try await h.call(route.method, route.path, token: attacker.admin, json: route.body)
                #expect(foreign.status == .notFound, "\(route.method) \(route.path) from another tenant: \(foreign.status) \(foreign.text)")
                guard route.path.hasPrefix("/v1/customers/") else { continue }
                let outside = try await h.call(route.method, route.path, token: colleague, json: route.body)
                #expect(outside.status == .notFound, "\(route.method) \(route.path) outside the caller's scope: \(outside.status) \(outside.text)")
            }
            try await unchanged(h, tenant, i)
            // The lists of the other tenant and of the colleague hold none of it.
            #expect(try await h.call(.get, "/v1/customers", token: attacker.admin).data.isEmpty)
            #expect(try await h.call(.get, "/v1/customers/count", token: colleague).json["count"] as? Int == 0)
            #expect(try await h.call(.get, "/v1/customers/export", token: attacker.admin).text.split(separator: "\r\n").count == 1, "the header only")
        }
    }

    /// Every route with its permission: the request succeeds (in an order where each can), in
    /// this status. The import is posted as a file (`csv`).
    static func successes(_ i: Items, contact: String) -> [(method: HTTPRequest.Method, path: String, body: [String: Any]?, status: Int)] {
        let c = "/v1/customers/\(i.customer)"
        return [
            (.get, "/v1/customers", nil, 200),
            (.post, "/v1/customers", ["name": "X"], 201),
            (.get, "/v1/customers/count", nil, 200),
            (.post, "/v1/customers/batch", ["ids": [i.customer], "action": "add_tags", "tags": ["x"]], 200),
            (.post, "/v1/customers/import", ["csv": "name\nImported\n"], 200),
            (.get, "/v1/customers/export", nil, 200),
            (.get, c, nil, 200),
            (.patch, c, ["title": "Changed"], 200),
            (.post, "/v1/customers/\(contact)/enter", nil, 200),
            (.post, "\(c)/release", nil, 200),
            (.post, "\(c)/claim", nil, 200),
            (.put, "\(c)/owner", ["owner_id": NSNull(), "owner_team_id": NSNull()], 200),
            (.post, "\(c)/merge", ["from": [i.other]], 200),
            (.get, "\(c)/merges", nil, 200),
            (.post, "\(c)/identities", ["kind": "qq", "external_id": "new"], 201),
            (.delete, "\(c)/identities?kind=qq&external_id=known", nil, 200),
            (.get, "\(c)/follow-ups", nil, 200),
            (.post, "\(c)/follow-ups", ["note": "x"], 201),
            (.get, "\(c)/trail", nil, 200),
            (.put, "\(c)/private-remark", ["name": "x"], 200),
            (.get, "\(c)/private-remark", nil, 200),
            (.delete, "\(c)/private-remark", nil, 204),
            (.put, "\(c)/favourite", nil, 200),
            (.delete, "\(c)/favourite", nil, 200),
            (.get, "/v1/customer-fields", nil, 200),
            (.post, "/v1/customer-fields", ["api_name": "level", "display_name": "Level", "type": "short_text"], 201),
            (.get, "/v1/customer-fields/\(i.field)", nil, 200),
            (.patch, "/v1/customer-fields/\(i.field)", ["display_name": "Changed"], 200),
            (.get, "/v1/customer-views", nil, 200),
            (.post, "/v1/customer-views", ["name": "V", "filter": ["join": "all", "conditions": [[String: Any]]()]], 201),
            (.get, "/v1/customer-views/\(i.view)", nil, 200),
            (.patch, "/v1/customer-views/\(i.view)", ["name": "Changed"], 200),
            (.get, "/v1/entry-rules", nil, 200),
            (.post, "/v1/entry-rules", entryRule.merging(["name": "R2"]) { $1 }, 201),
            (.get, "/v1/entry-rules/\(i.entry)", nil, 200),
            (.put, "/v1/entry-rules/\(i.entry)", entryRule, 200),
            (.get, "/v1/scoring-rules", nil, 200),
            (.post, "/v1/scoring-rules", scoringRule.merging(["name": "S2"]) { $1 }, 201),
            (.get, "/v1/scoring-rules/\(i.scoring)", nil, 200),
            (.put, "/v1/scoring-rules/\(i.scoring)", scoringRule, 200),
            (.get, "/v1/customer-settings", nil, 200),
            (.put, "/v1/customer-settings", ["follow_up_statuses": ["new", "won"], "funnel_stages": ["lead", "deal"]], 200),
            (.delete, "/v1/customer-fields/\(i.field)", nil, 204),
            (.delete, "/v1/customer-views/\(i.view)", nil, 204),
            (.delete, "/v1/entry-rules/\(i.entry)", nil, 204),
            (.delete, "/v1/scoring-rules/\(i.scoring)", nil, 204),
            (.delete, c, nil, 204),
        ]
    }

    /// Every route that takes input, given a bad one, and the field its 422 must name.
    static func invalid(_ i: Items) -> [(method: HTTPRequest.Method, path: String, body: [String: Any]?, field: String)] {
        let c = "/v1/customers/\(i.customer)"
        let noConditions: [String: Any] = ["join": "all", "conditions": [[String: Any]]()]
        let badCondition: [String: Any] = ["join": "all", "conditions": [["field": "customer.colour", "op": "equals", "value": "red"]]]
        return [
            (.get, "/v1/customers?sort=colour", nil, "sort"),
            (.get, "/v1/customers?limit=0", nil, "limit"),
            (.post, "/v1/customers", ["name": ""], "name"),
            (.get, "/v1/customers/count?entered=maybe", nil, "entered"),
            (.post, "/v1/customers/batch", ["ids": [i.customer], "action": "explode"], "action"),
            (.post, "/v1/customers/import", ["csv": "name,colour\nX,red\n"], "columns"),
            (.get, "/v1/customers/export?view_id=nowhere", nil, "view_id"),
            (.patch, c, ["age": -1], "age"),
            (.put, "\(c)/owner", ["owner_id": "nobody"], "owner_id"),
            (.post, "\(c)/merge", ["from": [String]()], "from"),
            (.post, "\(c)/identities", ["kind": "colour", "external_id": "x"], "kind"),
            (.delete, "\(c)/identities?kind=colour&external_id=x", nil, "kind"),
            (.post, "\(c)/follow-ups", ["note": ""], "note"),
            (.get, "\(c)/trail?limit=1000", nil, "limit"),
            (.put, "\(c)/private-remark", ["name": ""], "name"),
            (.post, "/v1/customer-fields", ["api_name": "Bad Name", "display_name": "F", "type": "short_text"], "api_name"),
            (.patch, "/v1/customer-fields/\(i.field)", ["display_name": ""], "display_name"),
            (.post, "/v1/customer-views", ["name": "", "filter": noConditions], "name"),
            (.patch, "/v1/customer-views/\(i.view)", ["filter": badCondition], "filter.conditions[0].field"),
            (.post, "/v1/entry-rules", ["name": "R3", "conditions": badCondition], "conditions.conditions[0].field"),
            (.put, "/v1/entry-rules/\(i.entry)", entryRule.merging(["points": 5]) { $1 }, "points"),
            (.post, "/v1/scoring-rules", entryRule.merging(["name": "S3"]) { $1 }, "points"),
            (.put, "/v1/scoring-rules/\(i.scoring)", scoringRule.merging(["points": 5000]) { $1 }, "points"),
            (.put, "/v1/customer-settings", ["follow_up_statuses": ["new"], "funnel_stages": [String]()], "funnel_stages"),
        ]
    }

    func call(_ h: CustomersHarness, _ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]?, token: String) async throws -> APIReply {
        if let csv = body?["csv"] as? String { return try await h.upload(csv, token: token) }
        return try await h.call(method, path, token: token, json: body)
    }

    @Test func everyRouteWorksWithItsPermissionAndNamesTheFieldOfBadInput() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let i = try await items(h, tenant)
            // Bad input first: each is a 422 naming its field, and nothing was written.
            for route in Self.invalid(i) {
                let reply = try await call(h, route.method, route.path, route.body, token: tenant.admin)
                #expect(reply.status == .unprocessableContent && reply.fields == [route.field],
                        "\(route.method) \(route.path): \(reply.status) \(reply.text)")
            }
            try await unchanged(h, tenant, i)

            try await h.publish(VisitorSeen(visitorId: VisitorID(), widgetId: UUID(), isNew: true, visitCount: 1, attributes: [:], seenAt: Date()),
                                in: tenant)
            var contact: String?
            try #require(try await h.eventually {
                contact = try await h.call(.get, "/v1/customers?entered=false", token: tenant.admin).data.first?["id"] as? String
                return contact != nil
            })
            for route in Self.successes(i, contact: contact!) {
                let reply = try await call(h, route.method, route.path, route.body, token: tenant.admin)
                #expect(Int(reply.status.code) == route.status, "\(route.method) \(route.path): \(reply.status) \(reply.text)")
            }
            #expect(try await h.call(.get, "/v1/customers/\(i.customer)", token: tenant.admin).status == .notFound, "the last route deleted it")
        }
    }
}
