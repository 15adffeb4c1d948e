import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// `POST /v1/customers/batch`: on listed ids or on everything a filter matches, a result per customer.
@Suite struct BatchTests {
    @Test func batchActionsReportEachCustomer() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let a = try await h.customer(tenant, ["name": "A", "tags": ["old"]])
            let b = try await h.customer(tenant, ["name": "B"])
            let foreign = try await h.customer(other)
            let tagged = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: [
                "ids": [a, b, foreign], "action": "add_tags", "tags": ["vip", "old"],
            ])
            #expect(tagged.status == .ok, "\(tagged.text)")
            #expect(tagged.json["done"] as? Int == 2 && tagged.json["failed"] as? Int == 1)
            #expect((tagged.json["results"] as? [[String: Any]])?.map { $0["result"] as? String } == ["done", "done", "not_found"])
            #expect(try await h.call(.get, "/v1/customers/\(a)", token: tenant.admin).json["tags"] as? [String] == ["old", "vip"])
            let again = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["ids": [a], "action": "add_tags", "tags": ["vip"]])
            #expect(again.json["unchanged"] as? Int == 1)

            // All matching: every customer the search finds.
            let pooled = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: [
                "matching": ["q": "vip"], "action": "move_to_pool",
            ])
            #expect(pooled.json["done"] as? Int == 2, "\(pooled.text)")
            #expect(try await h.call(.get, "/v1/customers/count?view_id=company_pool", token: tenant.admin).json["count"] as? Int == 2)
            let status = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: [
                "matching": ["view_id": "company_pool"], "action": "set_follow_up_status", "follow_up_status": "in_progress",
            ])
            #expect(status.json["done"] as? Int == 2)
            #expect(try await h.call(.get, "/v1/customers/\(b)", token: tenant.admin).string("follow_up_status") == "in_progress")

            #expect(try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["ids": [a], "action": "explode"]).fields == ["action"])
            #expect(try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["action": "delete"]).fields == ["ids"])
            #expect(try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["ids": [a], "action": "add_tags"]).fields == ["tags"])
            let editor = try await h.token(tenant, [.customersView, .customersEdit])
            #expect(try await h.call(.post, "/v1/customers/batch", token: editor, json: ["ids": [a], "action": "delete"]).status == .forbidden)
            #expect(try await h.call(.post, "/v1/customers/batch", token: try await h.token(tenant, [.customersView]), json: [
                "ids": [a], "action": "add_tags", "tags": ["x"],
            ]).status == .forbidden)
            let deleted = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["ids": [a, b], "action": "delete"])
            #expect(deleted.json["done"] as? Int == 2)
            #expect(try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int == 0)
            #expect(try await h.call(.get, "/v1/customers/\(foreign)", token: other.admin).status == .ok, "another tenant's customer untouched")
        }
    }
}
