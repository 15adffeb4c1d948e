import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

@Suite struct RuleTests {
    @Test func conditionsAreValidatedWithTheirPath() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let bad = try await h.call(.post, "/v1/guide-rules", token: tenant.admin, json: Bodies.guideRule("Bad", [
                ["field": "visitor.shoe_size", "op": "equals", "value": "42"],
                ["field": "visitor.visit_count", "op": "contains", "value": 3],
                ["field": "visitor.visit_count", "op": "greater_than", "value": "three"],
                ["field": "customer.gender", "op": "equals", "value": "robot"],
            ]))
            #expect(bad.status == .unprocessableContent)
            let errors = (bad.json["errors"] as? [[String: String]]) ?? []
            let codes = Dictionary(errors.map { ($0["field"]!, $0["code"]!) }) { a, _ in a }
            #expect(codes["conditions[0].field"] == "unknown_field")
            #expect(codes["conditions[1].op"] == "wrong_operator")
            #expect(codes["conditions[2].value"] == "invalid_value")
            #expect(codes["conditions[3].value"] == "invalid_value")

            let messages = try await h.call(.post, "/v1/guide-rules", token: tenant.admin, json: [
                "name": "Long text", "enabled": true, "conditions": Bodies.conditions([]),
                "messages": [["interval_seconds": -1, "content": ["type": "text", "text": String(repeating: "好", count: 601)]],
                             ["interval_seconds": 2, "content": ["type": "image", "image_url": "ftp://x"]]],
            ])
            #expect(Set(messages.fields) == ["messages[0].interval_seconds", "messages[0].content.text", "messages[1].content.image_url"])
            // Each type needs its own field, non-empty, and no other type's.
            let contents = try await h.call(.post, "/v1/guide-rules", token: tenant.admin, json: [
                "name": "Contents", "enabled": true, "conditions": Bodies.conditions([]),
                "messages": [["interval_seconds": 0, "content": ["type": "text", "text": "  "]],
                             ["interval_seconds": 0, "content": ["type": "rich"]],
                             ["interval_seconds": 0, "content": ["type": "material"]],
                             ["interval_seconds": 0, "content": ["type": "image", "image_url": "https://x.example/a.png", "text": "x"]]],
            ])
            #expect(Set(contents.fields) == ["messages[0].content.text", "messages[1].content.articles",
                                             "messages[2].content.material_id", "messages[3].content.text"], "\(contents.fields)")
            // 600 characters of Chinese text is within the limit.
            let ok = try await h.call(.post, "/v1/guide-rules", token: tenant.admin, json: [
                "name": "Long text", "enabled": true, "conditions": Bodies.conditions([]),
                "messages": [["interval_seconds": 0, "content": ["type": "text", "text": String(repeating: "好", count: 600)]]],
            ])
            #expect(ok.status == .created)
        }
    }

    @Test func customFieldsComeFromTheCustomerLibrary() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let rule = Bodies.assignmentRule("VIP", [["field": "custom.vip_level", "op": "in", "value": ["gold", "platinum"]]])
            let unknown = try await h.call(.post, "/v1/assignment-rules", token: tenant.admin, json: rule)
            #expect(unknown.fields == ["conditions[0].field"])
            try await h.publish(CustomerFieldChanged(apiName: "vip_level", type: .singleChoice, choices: ["silver", "gold", "platinum"], exists: true), in: tenant)
            #expect(try await h.eventually {
                try await h.call(.post, "/v1/assignment-rules", token: tenant.admin, json: rule).status == .created
            })
            let snapshot = try await h.call(.get, "/v1/reception/snapshot", token: tenant.admin)
            #expect((snapshot.json["custom_fields"] as? [[String: Any]])?.first?["key"] as? String == "custom.vip_level")
        }
    }

    @Test func rulesAreReorderedAsAWhole() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            var ids: [String] = []
            for name in ["A", "B", "C"] { ids.append(try await h.create("/v1/assignment-rules", token: tenant.admin, Bodies.assignmentRule(name))) }
            #expect(try await h.call(.get, "/v1/assignment-rules", token: tenant.admin).data.map { $0["id"] as! String } == ids)
            let reordered = try await h.call(.put, "/v1/assignment-rules/order", token: tenant.admin, json: ["ids": [ids[2], ids[0], ids[1]]])
            #expect(reordered.status == .ok && reordered.data.map { $0["id"] as! String } == [ids[2], ids[0], ids[1]])
            let incomplete = try await h.call(.put, "/v1/assignment-rules/order", token: tenant.admin, json: ["ids": [ids[0], ids[1]]])
            #expect(incomplete.status == .unprocessableContent && incomplete.fields == ["ids"])
            let repeated = try await h.call(.put, "/v1/assignment-rules/order", token: tenant.admin, json: ["ids": [ids[0], ids[0], ids[1], ids[2]]])
            #expect(repeated.fields == ["ids"])
            // New rules go last.
            let d = try await h.create("/v1/assignment-rules", token: tenant.admin, Bodies.assignmentRule("D"))
            #expect(try await h.call(.get, "/v1/assignment-rules", token: tenant.admin).data.map { $0["id"] as! String } == [ids[2], ids[0], ids[1], d])
        }
    }

    @Test func dryRunSaysWhichRulesMatchAndWhy() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let vipGroup = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("VIP", members: [agent]))
            let shanghai = try await h.create("/v1/guide-rules", token: tenant.admin, Bodies.guideRule("Shanghai", [
                ["field": "visitor.region", "op": "equals", "value": "Shanghai"],
                ["field": "visitor.visit_time", "op": "between", "value": ["09:00", "18:00"]],
            ]))
            let returning = try await h.create("/v1/guide-rules", token: tenant.admin, Bodies.guideRule("Returning", [
                ["field": "visitor.visit_count", "op": "greater_or_equal", "value": 3],
            ]))
            let disabled = Bodies.assignmentRule("Off", [], targets: [["type": "owner"]]).merging(["enabled": false]) { $1 }
            _ = try await h.create("/v1/assignment-rules", token: tenant.admin, disabled)
            let vip = try await h.create("/v1/assignment-rules", token: tenant.admin, Bodies.assignmentRule("VIP", [
                ["field": "customer.tags", "op": "contains_any", "value": ["vip"]],
            ], targets: [["type": "group", "id": vipGroup], ["type": "owner"]]))
            _ = try await h.call(.put, "/v1/reception/assignment-settings", token: tenant.admin, json: ["owner_first": true, "default_target": ["type": "group", "id": vipGroup]])

            let run = try await h.call(.post, "/v1/reception/dry-run", token: tenant.admin, json: ["attributes": [
                "visitor.region": "shanghai", "visitor.visit_time": "20:30", "visitor.visit_count": 5, "customer.tags": ["VIP", "new"],
            ]])
            #expect(run.status == .ok, "\(run.text)")
            let guide = try #require(run.json["guide_rule"] as? [String: Any])
            #expect(guide["id"] as? String == returning)
            let evaluated = try #require(run.json["evaluated_guide_rules"] as? [[String: Any]])
            #expect(evaluated.first?["id"] as? String == shanghai && evaluated.first?["matched"] as? Bool == false)
            #expect((evaluated.first?["conditions"] as? [[String: Any]])?.map { $0["matched"] as! Bool } == [true, false])
            #expect((run.json["messages"] as? [Any])?.count == 1)
            #expect((run.json["assignment_rule"] as? [String: Any])?["id"] as? String == vip)
            #expect((run.json["evaluated_assignment_rules"] as? [Any])?.count == 1, "disabled rules are not evaluated")
            #expect((run.json["targets"] as? [[String: Any]])?.map { $0["type"] as! String } == ["group", "owner"])
            #expect(run.json["used_default"] as? Bool == false && run.json["owner_first"] as? Bool == true)

            let nobody = try await h.call(.post, "/v1/reception/dry-run", token: tenant.admin, json: ["attributes": [String: Any]()])
            #expect(nobody.json["guide_rule"] == nil && nobody.json["used_default"] as? Bool == true)
            #expect((nobody.json["targets"] as? [[String: Any]])?.first?["id"] as? String == vipGroup)

            let bad = try await h.call(.post, "/v1/reception/dry-run", token: tenant.admin, json: ["attributes": [
                "visitor.nope": "x", "visitor.visit_time": "25:00", "customer.tags": "vip",
            ]])
            #expect(Set(bad.fields) == ["attributes.visitor.nope", "attributes.visitor.visit_time", "attributes.customer.tags"])
        }
    }
}
