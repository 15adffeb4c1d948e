import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Follow-up statuses and funnel stages, configurable per tenant.
@Suite struct LibrarySettingsTests {
    @Test func aTenantsOwnStatusesAndStagesApplyEverywhere() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let defaults = try await h.call(.get, "/v1/customer-settings", token: tenant.admin)
            #expect(defaults.json["funnel_stages"] as? [String] == ["initial_contact", "interested", "order_submitted", "deal_closed"])
            let id = try await h.customer(tenant, ["follow_up_status": "done"])
            let put = try await h.call(.put, "/v1/customer-settings", token: tenant.admin, json: [
                "follow_up_statuses": ["new", "calling", "won"], "funnel_stages": ["lead", "deal"],
            ])
            #expect(put.status == .ok, "\(put.text)")
            #expect(try await h.call(.get, "/v1/customer-settings", token: other.admin).json["follow_up_statuses"] as? [String] == ["to_follow_up", "in_progress", "done"])
            #expect(try await h.call(.post, "/v1/customers", token: tenant.admin, json: ["name": "X", "follow_up_status": "done"]).fields == ["follow_up_status"])
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["funnel_stage": "lead"]).status == .ok)
            #expect(try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).string("follow_up_status") == "done", "a value taken out stays")
            let fields = try await h.call(.get, "/v1/customer-fields", token: tenant.admin).data
            #expect(fields.first { $0["api_name"] as? String == "funnel_stage" }?["choices"] as? [String] == ["lead", "deal"])
            let view = try await h.call(.post, "/v1/customer-views", token: tenant.admin, json: [
                "name": "Leads", "filter": ["join": "all", "conditions": [["field": "customer.funnel_stage", "op": "equals", "value": "lead"]]],
            ])
            #expect(view.status == .created)
            #expect(try await h.call(.get, "/v1/customers/count?view_id=\(view.id!)", token: tenant.admin).json["count"] as? Int == 1)
            let batch = try await h.call(.post, "/v1/customers/batch", token: tenant.admin, json: ["ids": [id], "action": "set_follow_up_status", "follow_up_status": "won"])
            #expect(batch.json["done"] as? Int == 1)

            #expect(Set(try await h.call(.put, "/v1/customer-settings", token: tenant.admin, json: [
                "follow_up_statuses": [String](), "funnel_stages": ["a", "a"],
            ]).fields) == ["follow_up_statuses", "funnel_stages[1]"])
            #expect(try await h.call(.put, "/v1/customer-settings", token: try await h.token(tenant, [.customersView, .customersEdit]), json: [
                "follow_up_statuses": ["a"], "funnel_stages": ["b"],
            ]).status == .forbidden)
        }
    }
}
