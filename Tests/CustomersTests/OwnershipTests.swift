import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Owners and pools: claims (racing), release, change of owner, handover, deleted employees.
@Suite struct OwnershipTests {
    @Test func twoClaimsOfOneCustomerOneWins() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let id = try await h.customer(tenant, ["owner_id": NSNull()])
            let claimants = [EmployeeID(), EmployeeID(), EmployeeID(), EmployeeID()]
            var tokens: [String] = []
            for claimant in claimants { tokens.append(try await h.token(tenant, [.customersView, .customersPool], employee: claimant, scopes: [.all])) }
            let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for (index, token) in tokens.enumerated() {
                    group.addTask { (index, Int(try await h.call(.post, "/v1/customers/\(id)/claim", token: token).status.code)) }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            // The losers reach every customer, so they learn it is taken; a loser whose scope does not
            // reach the winner's customers gets a 404 instead, like any record outside it.
            #expect(statuses.values.sorted() == [200, 409, 409, 409])
            let winner = claimants[statuses.first { $0.value == 200 }!.key]
            let shown = try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin)
            #expect(shown.string("owner_id") == winner.description)
            #expect(try await h.events(CustomerOwnerChanged.self, in: tenant).map(\.ownerId) == [winner], "one change, published once")
        }
    }

    @Test func claimReleaseAndChangeOwner() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let owned = try await h.customer(tenant)
            let pooled = try await h.customer(tenant, ["owner_id": NSNull()])
            let me = EmployeeID()
            let claimer = try await h.token(tenant, [.customersView, .customersPool, .customersEdit], employee: me, scopes: [.mine])
            #expect(try await h.call(.post, "/v1/customers/\(pooled)/claim", token: try await h.token(tenant, [.customersView])).status == .forbidden)
            #expect(try await h.call(.post, "/v1/customers/\(owned)/claim", token: claimer).status == .notFound, "owned by another, outside my scope")
            #expect(try await h.call(.post, "/v1/customers/\(owned)/claim", token: tenant.admin).code == "already_owned")
            #expect(try await h.call(.post, "/v1/customers/\(pooled)/claim", token: other.admin).status == .notFound)
            let claimed = try await h.call(.post, "/v1/customers/\(pooled)/claim", token: claimer)
            #expect(claimed.status == .ok && claimed.string("owner_id") == me.description)

            let released = try await h.call(.post, "/v1/customers/\(pooled)/release", token: claimer)
            #expect(released.status == .ok && released.json["owner_id"] == nil)
            #expect(try await h.call(.post, "/v1/customers/\(pooled)/release", token: tenant.admin).code == "not_owned")
            #expect(try await h.call(.post, "/v1/customers/\(pooled)/release", token: claimer).status == .notFound, "back in the pool, outside `mine`")

            let unknown = try await h.call(.put, "/v1/customers/\(owned)/owner", token: tenant.admin, json: ["owner_id": UUID().uuidString])
            #expect(unknown.fields == ["owner_id"])
            let agent = try await h.employee(in: tenant)
            let team = UUID()
            let moved = try await h.call(.put, "/v1/customers/\(owned)/owner", token: tenant.admin, json: [
                "owner_id": agent.description, "owner_team_id": team.uuidString,
            ])
            #expect(moved.status == .ok && moved.string("owner_id") == agent.description && moved.string("owner_team_id") == team.uuidString.lowercased())
            #expect(try await h.call(.put, "/v1/customers/\(owned)/owner", token: try await h.token(tenant, [.customersView]), json: [:]).status == .forbidden)
            #expect(try await h.call(.put, "/v1/customers/\(owned)/owner", token: other.admin, json: [:]).status == .notFound)
            #expect(try await h.call(.put, "/v1/customers/\(owned)/owner", token: tenant.admin, json: ["owner_id": 5]).fields == ["owner_id"])
            let changes = try await h.events(CustomerOwnerChanged.self, in: tenant)
            #expect(changes.last?.ownerId == agent && changes.last?.ownerTeamId == team)
            let audited = try await h.events(AuditRecorded.self, in: tenant).filter { $0.action == "customers.customer.owner_changed" }
            #expect(audited.map(\.actorId) == [me.uuid, me.uuid, tenant.adminID.uuid], "claim, release and change are audited")
            #expect(audited.last?.before?.contains(tenant.adminID.description) == true && audited.last?.after?.contains(agent.description) == true)
        }
    }

    @Test func aHandoverMovesOwnedCustomersAndADeletedEmployeesGoBackToTheirPools() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let leaver = try await h.employee(in: tenant)
            let receiver = try await h.employee(in: tenant)
            let team = UUID()
            let first = try await h.customer(tenant, ["owner_id": leaver.description])
            let second = try await h.customer(tenant, ["owner_id": leaver.description, "owner_team_id": team.uuidString])
            let untouched = try await h.customer(tenant)
            try await h.publish(EmployeeBusinessTransferred(handoverId: UUID(), fromEmployeeId: leaver, toEmployeeId: receiver, note: nil), in: tenant)
            func owner(_ id: String) async throws -> String? { try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).string("owner_id") }
            #expect(try await h.eventually {
                let (a, b) = (try await owner(first), try await owner(second))
                return a == receiver.description && b == receiver.description
            })
            #expect(try await owner(untouched) == tenant.adminID.description)

            try await h.publish(EmployeeStatusChanged(employee: h.snapshot(receiver, status: "deleted"), previousStatus: "active"), in: tenant)
            #expect(try await h.eventually {
                let (a, b) = (try await owner(first), try await owner(second))
                return a == nil && b == nil
            })
            #expect(try await h.call(.get, "/v1/customers/\(second)", token: tenant.admin).string("owner_team_id") == team.uuidString.lowercased(),
                    "the team's pool, not the company's")
            let changes = try await h.events(CustomerOwnerChanged.self, in: tenant).filter { $0.customerId.uuidString.lowercased() == first }
            #expect(changes.map(\.ownerId) == [leaver, receiver, nil])
        }
    }
}
