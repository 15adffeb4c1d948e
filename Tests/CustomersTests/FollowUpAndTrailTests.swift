import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Follow-up records, private remarks, favourites and the trail.
@Suite struct FollowUpAndTrailTests {
    @Test func followUpsAndTheTrailInTimeOrder() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let visitor = VisitorID()
            let start = Date().addingTimeInterval(-3600)
            try await h.publish(VisitorSeen(visitorId: visitor, widgetId: UUID(), isNew: true, visitCount: 1, attributes: [:], seenAt: start), in: tenant)
            try await h.publish(VisitorPageViewed(visitorId: visitor, url: "https://shop.example/a", title: "A", referrer: nil, viewedAt: start.addingTimeInterval(10)), in: tenant)
            let click = VisitorMenuClicked(visitorId: visitor, channelId: UUID(), key: "kefu_1", name: "价格", clickedAt: start.addingTimeInterval(15))
            try await h.publish(click, in: tenant)
            try await h.publish(ConversationCreated(conversationId: ConversationID(), visitorId: visitor, widgetId: nil, channel: "web", createdAt: start.addingTimeInterval(20)), in: tenant)
            var found: String?
            #expect(try await h.eventually {
                found = try await h.call(.get, "/v1/customers?entered=false", token: tenant.admin).data.first { ($0["reception_count"] as? Int) == 1 }?["id"] as? String
                return found != nil
            })
            let id = try #require(found)
            #expect(try await h.call(.post, "/v1/customers/\(id)/follow-ups", token: tenant.admin, json: ["note": "Call"]).code == "not_entered")
            #expect(try await h.call(.post, "/v1/customers/\(id)/enter", token: tenant.admin).status == .ok)
            let note = try await h.call(.post, "/v1/customers/\(id)/follow-ups", token: tenant.admin, json: [
                "note": "Called, wants a quote", "at": RFC3339.string(from: start.addingTimeInterval(30)),
            ])
            #expect(note.status == .created && note.string("author_id") == tenant.adminID.description, "\(note.text)")
            #expect(try await h.call(.post, "/v1/customers/\(id)/follow-ups", token: tenant.admin, json: ["note": ""]).fields == ["note"])
            #expect(try await h.call(.post, "/v1/customers/\(id)/follow-ups", token: try await h.token(tenant, [.customersView]), json: ["note": "x"]).status == .forbidden)
            #expect(try await h.call(.post, "/v1/customers/\(id)/follow-ups", token: other.admin, json: ["note": "x"]).status == .notFound)
            #expect(try await h.call(.get, "/v1/customers/\(id)/follow-ups", token: tenant.admin).data.count == 1)

            let trail = try await h.call(.get, "/v1/customers/\(id)/trail?limit=2", token: tenant.admin)
            #expect(trail.data.compactMap { $0["kind"] as? String } == ["follow_up", "conversation"])
            let rest = try await h.call(.get, "/v1/customers/\(id)/trail?cursor=\(trail.json["next_cursor"] as! String)", token: tenant.admin)
            #expect(rest.data.compactMap { $0["kind"] as? String } == ["menu_clicked", "page_viewed"])
            #expect((rest.data.first?["details"] as? [String: Any])?["name"] as? String == "价格")
            #expect((rest.data.first?["details"] as? [String: Any])?["key"] as? String == "kefu_1")
            #expect((rest.data.last?["details"] as? [String: Any])?["url"] as? String == "https://shop.example/a")
            #expect(try await h.call(.get, "/v1/customers/\(id)/trail", token: other.admin).status == .notFound)
            #expect(try await h.call(.get, "/v1/customers/\(id)/trail", token: try await h.token(tenant, [.clientLogin])).status == .forbidden)
        }
    }

    @Test func privateRemarksAreTheirAuthorsOnlyAndMoveWithAMerge() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let survivor = try await h.customer(tenant)
            let loser = try await h.customer(tenant)
            let alice = try await h.token(tenant, [.customersView, .customersPrivateRemarks], employee: EmployeeID())
            let bob = try await h.token(tenant, [.customersView, .customersPrivateRemarks], employee: EmployeeID())
            #expect(try await h.call(.put, "/v1/customers/\(loser)/private-remark", token: alice, json: ["name": "Big fish"]).status == .ok)
            #expect(try await h.call(.put, "/v1/customers/\(loser)/private-remark", token: alice, json: ["name": ""]).fields == ["name"])
            #expect(try await h.call(.put, "/v1/customers/\(loser)/private-remark", token: try await h.token(tenant, [.customersView]), json: ["name": "x"]).status == .forbidden)
            #expect(try await h.call(.get, "/v1/customers/\(loser)/private-remark", token: bob).status == .notFound, "visible only to its author")
            #expect(try await h.call(.put, "/v1/customers/\(loser)/favourite", token: bob).json["favourite"] as? Bool == true)
            #expect(try await h.call(.put, "/v1/customers/\(loser)/favourite", token: bob).status == .ok, "twice is once")
            let other = try await h.tenant()
            #expect(try await h.call(.put, "/v1/customers/\(loser)/favourite", token: other.admin).status == .notFound)
            #expect(try await h.call(.put, "/v1/customers/\(loser)/private-remark", token: other.admin, json: ["name": "x"]).status == .notFound)
            #expect(try await h.call(.post, "/v1/customers/\(loser)/follow-ups", token: tenant.admin, json: ["note": "Met at the fair"]).status == .created)

            #expect(try await h.call(.post, "/v1/customers/\(survivor)/merge", token: tenant.admin, json: ["from": [loser]]).status == .ok)
            #expect(try await h.call(.get, "/v1/customers/\(survivor)/private-remark", token: alice).string("name") == "Big fish")
            #expect(try await h.call(.get, "/v1/customers/\(survivor)/follow-ups", token: tenant.admin).data.count == 1)
            let favourites = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM customers.favourites WHERE tenant_id = \(tenant.id.uuid) AND customer_id = \(UUID(uuidString: survivor)!)", as: Int.self)
            #expect(favourites == [1])
            #expect(try await h.call(.get, "/v1/customers/\(survivor)/trail", token: tenant.admin).data.compactMap { $0["kind"] as? String } == ["merge", "follow_up"])
            #expect(try await h.call(.get, "/v1/customers/\(survivor)/private-remark", token: alice).json["merged_names"] as? [String] == [])
            // Alice's remark on a second loser meets hers on the survivor: hers there wins, the
            // other is kept for her alone.
            let third = try await h.customer(tenant)
            #expect(try await h.call(.put, "/v1/customers/\(third)/private-remark", token: alice, json: ["name": "Old name"]).status == .ok)
            #expect(try await h.call(.post, "/v1/customers/\(survivor)/merge", token: tenant.admin, json: ["from": [third]]).status == .ok)
            let kept = try await h.call(.get, "/v1/customers/\(survivor)/private-remark", token: alice)
            #expect(kept.string("name") == "Big fish" && kept.json["merged_names"] as? [String] == ["Old name"], "\(kept.text)")
            let records = try await h.call(.get, "/v1/customers/\(survivor)/merges", token: tenant.admin)
            #expect(!records.text.contains("Old name") && !records.text.contains("Big fish"), "the merge record shows no private remark")
            #expect(try await h.call(.delete, "/v1/customers/\(survivor)/private-remark", token: alice).status == .noContent)
            #expect(try await h.call(.delete, "/v1/customers/\(survivor)/private-remark", token: alice).status == .notFound)
        }
    }
}
