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
            let audit = try await h.events(AuditRecorded.self, in: tenant)
            #expect(Set(audit.filter { $0.action == "customers.customer.deleted" }.compactMap(\.targetId)) == [a, b], "each deletion is audited")
            #expect(audit.filter { $0.action == "customers.customer.updated" }.count == 4, "two tag changes and two status changes")
            #expect(try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int == 0)
            #expect(try await h.call(.get, "/v1/customers/\(foreign)", token: other.admin).status == .ok, "another tenant's customer untouched")
        }
    }

    /// "All matching" an unsaved filter; owners changed and favourites kept per customer.
    @Test func aBatchOnAFilterChangesOwnersAndFavouritesPerCustomer() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let colleague = try await h.employee(in: tenant)
            let a = try await h.customer(tenant, ["name": "A", "region": "上海", "tags": ["vip"]])
            let b = try await h.customer(tenant, ["name": "B", "region": "上海"])
            let c = try await h.customer(tenant, ["name": "C", "region": "北京", "tags": ["vip"]])
            func owner(_ id: String) async throws -> String? { try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).string("owner_id") }
            let inShanghai: [String: Any] = ["join": "all", "conditions": [["field": "customer.location", "op": "equals", "value": "上海"]]]

            let moved = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: [
                "matching": ["filter": inShanghai], "action": "change_owner", "owner_id": colleague.description,
            ])
            #expect(moved.status == .ok && moved.json["done"] as? Int == 2, "\(moved.text)")
            #expect(Set((moved.json["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }) == [a, b])
            #expect(try await owner(a) == colleague.description)
            #expect(try await owner(b) == colleague.description)
            #expect(try await owner(c) == tenant.adminID.description, "outside the filter: untouched")
            let audited = try await h.events(AuditRecorded.self, in: tenant).filter { $0.action == "customers.customer.owner_changed" }
            #expect(Set(audited.compactMap(\.targetId)) == [a, b], "each change is audited")
            #expect(audited.allSatisfy { $0.after?.contains(colleague.description) == true })
            let changed = try await h.events(CustomerOwnerChanged.self, in: tenant).filter { $0.ownerId == colleague }
            #expect(Set(changed.map { $0.customerId.uuidString.lowercased() }) == [a, b], "each change is published")
            let again = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: [
                "matching": ["filter": inShanghai, "q": "A"], "action": "change_owner", "owner_id": colleague.description,
            ])
            #expect(again.json["unchanged"] as? Int == 1 && again.json["done"] as? Int == 0, "the filter and the search both apply: \(again.text)")
            let badFilter = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: [
                "matching": ["filter": ["join": "all", "conditions": [["field": "customer.colour", "op": "equals", "value": "red"]]]],
                "action": "move_to_pool",
            ])
            #expect(badFilter.status == .unprocessableContent && badFilter.fields == ["matching.filter.conditions[0].field"], "\(badFilter.text)")
            let badOwner = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: [
                "ids": [c], "action": "change_owner", "owner_id": UUID().uuidString,
            ])
            #expect(badOwner.fields == ["owner_id"])
            #expect(try await owner(c) == tenant.adminID.description, "nothing changed by a refused batch")

            let favoured = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["ids": [a, c], "action": "favourite"])
            #expect(favoured.json["done"] as? Int == 2, "\(favoured.text)")
            func favourites(_ token: String) async throws -> [String] {
                try await h.call(.get, "/v1/customers?view_id=favourites", token: token).data.compactMap { $0["name"] as? String }.sorted()
            }
            #expect(try await favourites(tenant.admin) == ["A", "C"])
            let peer = try await h.token(tenant, employee: colleague)
            #expect(try await favourites(peer).isEmpty, "favourites are the caller's own")
            #expect(try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["ids": [a], "action": "unfavourite"])
                .json["done"] as? Int == 1)
            #expect(try await favourites(tenant.admin) == ["C"])
            let key = try await TestKeys.shared.apiKeyToken(tenant: tenant.id, permissions: [.customersView])
            #expect(try await h.call(.post, "/v1/customers/batch", token: key, json: ["ids": [a], "action": "favourite"]).fields == ["action"],
                    "an API key keeps no favourites")
        }
    }
}
