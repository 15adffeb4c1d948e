import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// `customer.stage_changed` (analytics' customer funnel follows it) from every path that changes
/// a customer's funnel stage, and from none that leaves it.
@Suite struct StageEventTests {
    @Test func everyChangeOfAStageIsPublishedOnce() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let id = try await h.customer(tenant, ["name": "Funnel", "funnel_stage": "interested", "source": "ad-7"])
            var changes = try await h.events(CustomerStageChanged.self, in: tenant)
            #expect(changes.count == 1)
            #expect(changes.first?.customerId.uuidString.lowercased() == id && changes.first?.stageBefore == nil)
            #expect(changes.first?.stageAfter == "interested" && changes.first?.positionAfter == 1 && changes.first?.won == false)
            #expect(changes.first?.ownerId == tenant.adminID && changes.first?.source == "ad-7" && changes.first?.channel == nil)

            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["remark": "no stage change"]).status == .ok)
            #expect(try await h.events(CustomerStageChanged.self, in: tenant).count == 1, "an edit leaving the stage publishes nothing")
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["funnel_stage": "deal_closed"]).status == .ok)
            changes = try await h.events(CustomerStageChanged.self, in: tenant)
            #expect(changes.count == 2 && changes.last?.stageBefore == "interested" && changes.last?.positionBefore == 1)
            #expect(changes.last?.stageAfter == "deal_closed" && changes.last?.positionAfter == 3 && changes.last?.won == true)
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["funnel_stage": NSNull()]).status == .ok)
            changes = try await h.events(CustomerStageChanged.self, in: tenant)
            #expect(changes.count == 3 && changes.last?.stageAfter == nil && changes.last?.won == false)

            // A customer without a stage created: nothing; merged with one that has one: the survivor takes it.
            let survivor = try await h.customer(tenant, ["name": "Survivor"])
            let loser = try await h.customer(tenant, ["name": "Loser", "funnel_stage": "order_submitted"])
            #expect(try await h.events(CustomerStageChanged.self, in: tenant).count == 4)
            #expect(try await h.call(.post, "/v1/customers/\(survivor)/merge", token: tenant.admin, json: ["from": [loser]]).status == .ok)
            changes = try await h.events(CustomerStageChanged.self, in: tenant)
            #expect(changes.count == 5 && changes.last?.customerId.uuidString.lowercased() == survivor)
            #expect(changes.last?.stageBefore == nil && changes.last?.stageAfter == "order_submitted" && changes.last?.positionAfter == 2)
            // A survivor with its own stage keeps it: nothing to publish.
            let other = try await h.customer(tenant, ["name": "Other", "funnel_stage": "interested"])
            #expect(try await h.call(.post, "/v1/customers/\(survivor)/merge", token: tenant.admin, json: ["from": [other]]).status == .ok)
            #expect(try await h.events(CustomerStageChanged.self, in: tenant).count == 6, "only the creation of Other")
        }
    }
}
