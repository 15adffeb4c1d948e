import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Automatic entry rules and value scoring, both in the condition language.
@Suite struct RuleTests {
    func condition(_ field: String, _ op: String, _ value: Any) -> [String: Any] { ["field": field, "op": op, "value": value] }

    @Test func anEntryRuleEntersMatchingContacts() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let rule = try await h.call(.post, "/v1/entry-rules", token: tenant.admin, json: [
                "name": "From Shanghai", "conditions": ["join": "all", "conditions": [condition("visitor.region", "equals", "上海")]],
            ])
            #expect(rule.status == .created, "\(rule.text)")
            for region in ["上海", "北京"] {
                try await h.publish(VisitorSeen(visitorId: VisitorID(), widgetId: UUID(), isNew: true, visitCount: 1,
                                                attributes: ["region": region], seenAt: Date()), in: tenant)
            }
            #expect(try await h.eventually {
                let all = try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int
                let entered = try await h.call(.get, "/v1/customers/count?entered=true", token: tenant.admin).json["count"] as? Int
                return all == 2 && entered == 1
            })
            let entered = try await h.call(.get, "/v1/customers?entered=true", token: tenant.admin).data.first
            #expect(entered?["region"] as? String == "上海" && entered?["owner_id"] == nil, "entered into the company pool")
            #expect(try await h.events(CustomerEntered.self, in: tenant).map(\.ruleId) == [UUID(uuidString: rule.id!)])
        }
    }

    @Test func theScoreIsTheSumOfMatchingRulesWithReasons() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            #expect(try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: ["api_name": "budget", "display_name": "Budget", "type": "number"]).status == .created)
            for (name, points, cond) in [
                ("VIP", 50, condition("customer.tags", "contains_any", ["vip"])),
                ("Shanghai", 10, condition("customer.location", "equals", "上海")),
                ("Big budget", 30, condition("custom.budget", "greater_than", 1000)),
            ] {
                let reply = try await h.call(.post, "/v1/scoring-rules", token: tenant.admin, json: [
                    "name": name, "points": points, "conditions": ["join": "all", "conditions": [cond]],
                ])
                #expect(reply.status == .created, "\(reply.text)")
            }
            let id = try await h.customer(tenant, ["tags": ["vip"], "region": "上海"])
            let shown = try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin)
            #expect(shown.json["value_score"] as? Int == 60)
            #expect((shown.json["score_reasons"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["VIP", "Shanghai"])
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["custom_fields": ["budget": 2000]]).json["value_score"] as? Int == 90)
            #expect(try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["ids": [id], "action": "remove_tags", "tags": ["vip"]]).json["done"] as? Int == 1)
            #expect(try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).json["value_score"] as? Int == 40)
        }
    }

    /// What routing reported of a visit (the region with the visitor, the channel with the
    /// conversation) keeps scoring through later events, edits and rule changes.
    @Test func visitFactsKeepScoringAfterLaterChanges() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            for (name, points, cond) in [
                ("Shanghai visitor", 10, condition("visitor.region", "equals", "上海")),
                ("WeChat", 20, condition("visitor.channel", "equals", "wechat_official_account")),
            ] {
                let reply = try await h.call(.post, "/v1/scoring-rules", token: tenant.admin, json: [
                    "name": name, "points": points, "conditions": ["join": "all", "conditions": [cond]],
                ])
                try #require(reply.status == .created, "\(reply.text)")
            }
            let visitor = VisitorID()
            try await h.publish(VisitorSeen(visitorId: visitor, widgetId: UUID(), isNew: true, visitCount: 1, attributes: ["region": "上海"], seenAt: Date()), in: tenant)
            try await h.publish(ConversationCreated(conversationId: ConversationID(), visitorId: visitor, widgetId: nil, channel: "wechat_official_account", createdAt: Date()), in: tenant)
            func contact() async throws -> [String: Any]? { try await h.call(.get, "/v1/customers?entered=false", token: tenant.admin).data.first }
            #expect(try await h.eventually { try await contact()?["reception_count"] as? Int == 1 })
            let scored = try #require(try await contact())
            #expect(scored["value_score"] as? Int == 30, "both facts count: \(scored)")
            let id = try #require(scored["id"] as? String)
            #expect(try await h.call(.post, "/v1/customers/\(id)/enter", token: tenant.admin).status == .ok)
            let edited = try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["title": "Buyer"])
            #expect(edited.json["value_score"] as? Int == 30, "an edit keeps the visit's points: \(edited.text)")
            #expect(try await h.call(.post, "/v1/scoring-rules", token: tenant.admin, json: [
                "name": "Any", "points": 1, "conditions": ["join": "all", "conditions": [condition("customer.title", "equals", "Buyer")]],
            ]).status == .created)
            #expect(try await h.eventually { try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).json["value_score"] as? Int == 31 },
                    "a rule change rescored it with the visit's facts")
        }
    }

    @Test func aRuleChangeRejudgesTheCustomersThereAre() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let vip = try await h.customer(tenant, ["tags": ["vip"]])
            let plain = try await h.customer(tenant)
            try await h.publish(VisitorSeen(visitorId: VisitorID(), widgetId: UUID(), isNew: true, visitCount: 1, attributes: ["region": "杭州"], seenAt: Date()), in: tenant)
            #expect(try await h.eventually { try await h.call(.get, "/v1/customers/count?entered=false", token: tenant.admin).json["count"] as? Int == 1 })
            func score(_ id: String) async throws -> Int? { try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).json["value_score"] as? Int }
            let rule = try await h.call(.post, "/v1/scoring-rules", token: tenant.admin, json: [
                "name": "VIP", "points": 50, "conditions": ["join": "all", "conditions": [condition("customer.tags", "contains_any", ["vip"])]],
            ])
            #expect(try await h.eventually { try await score(vip) == 50 }, "existing customers are scored")
            #expect(try await score(plain) == 0)
            #expect(try await h.call(.delete, "/v1/scoring-rules/\(rule.id!)", token: tenant.admin).status == .noContent)
            #expect(try await h.eventually { try await score(vip) == 0 })
            #expect(try await h.call(.post, "/v1/entry-rules", token: tenant.admin, json: [
                "name": "Hangzhou", "conditions": ["join": "all", "conditions": [condition("customer.location", "equals", "杭州")]],
            ]).status == .created)
            #expect(try await h.eventually { try await h.call(.get, "/v1/customers/count?entered=false", token: tenant.admin).json["count"] as? Int == 0 },
                    "the waiting contact is entered")
        }
    }

    @Test func rulesAreValidatedAndScoped() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let empty: [String: Any] = ["join": "all", "conditions": [[String: Any]]()]
            #expect(try await h.call(.post, "/v1/scoring-rules", token: tenant.admin, json: ["name": "X", "conditions": empty]).fields == ["points"])
            #expect(try await h.call(.post, "/v1/entry-rules", token: tenant.admin, json: ["name": "X", "points": 5, "conditions": empty]).fields == ["points"])
            let bad = try await h.call(.post, "/v1/entry-rules", token: tenant.admin, json: [
                "name": "", "conditions": ["join": "all", "conditions": [condition("customer.nothing", "equals", "x"), condition("visitor.visit_count", "greater_than", "many")]],
            ])
            #expect(Set(bad.fields) == ["name", "conditions.conditions[0].field", "conditions.conditions[1].value"])
            #expect(try await h.call(.post, "/v1/entry-rules", token: try await h.token(tenant, [.customersView]), json: ["name": "X", "conditions": empty]).status == .forbidden)
            let rule = try await h.call(.post, "/v1/entry-rules", token: tenant.admin, json: ["name": "Every", "conditions": empty])
            #expect(rule.status == .created)
            #expect(try await h.call(.post, "/v1/entry-rules", token: tenant.admin, json: ["name": "Every", "conditions": empty]).code == "name_taken")
            let id = try #require(rule.id)
            let replaced = try await h.call(.put, "/v1/entry-rules/\(id)", token: tenant.admin, json: ["name": "Every visitor", "enabled": false, "conditions": empty])
            #expect(replaced.status == .ok && replaced.json["enabled"] as? Bool == false)
            #expect(try await h.call(.get, "/v1/scoring-rules/\(id)", token: tenant.admin).status == .notFound, "another kind's rule")
            #expect(try await h.call(.get, "/v1/entry-rules/\(id)", token: other.admin).status == .notFound)
            #expect(try await h.call(.put, "/v1/entry-rules/\(id)", token: other.admin, json: ["name": "X", "conditions": empty]).status == .notFound)
            #expect(try await h.call(.delete, "/v1/entry-rules/\(id)", token: other.admin).status == .notFound)
            #expect(try await h.call(.get, "/v1/entry-rules", token: tenant.admin).data.count == 1)
            #expect(try await h.call(.delete, "/v1/entry-rules/\(id)", token: tenant.admin).status == .noContent)
        }
    }
}
