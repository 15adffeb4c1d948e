import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// "Owned by my groups", "owned by other members of my groups" and team pools, from reception's groups.
@Suite struct GroupScopeTests {
    @Test func groupScopesAndTeamPoolsFollowReceptionsGroups() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let (a, b, c) = (try await h.employee(in: tenant), try await h.employee(in: tenant), try await h.employee(in: tenant))
            let group = try await h.group(in: tenant, members: [a, b])
            let ownedByB = try await h.customer(tenant, ["name": "B's", "owner_id": b.description])
            let teamPool = try await h.customer(tenant, ["name": "Team pool", "owner_id": NSNull(), "owner_team_id": group.uuidString])
            _ = try await h.customer(tenant, ["name": "C's", "owner_id": c.description])
            func names(_ token: String) async throws -> [String] {
                try await h.call(.get, "/v1/customers", token: token).data.compactMap { $0["name"] as? String }.sorted()
            }
            #expect(try await names(try await h.token(tenant, [.customersView], employee: a, scopes: [.myGroups])) == ["Team pool"])
            #expect(try await names(try await h.token(tenant, [.customersView], employee: a, scopes: [.myGroupsMembers])) == ["B's"])
            #expect(try await names(try await h.token(tenant, [.customersView], employee: c, scopes: [.myGroups, .myGroupsMembers])).isEmpty)
            let outsider = try await h.token(tenant, [.customersView, .customersPool], employee: c, scopes: [.mine])
            #expect(try await h.call(.get, "/v1/customers/\(ownedByB)", token: outsider).status == .notFound)
            #expect(try await h.call(.post, "/v1/customers/\(teamPool)/claim", token: outsider).status == .notFound, "another team's pool")
            let member = try await h.token(tenant, [.customersView, .customersPool], employee: a, scopes: [.mine])
            let claimed = try await h.call(.post, "/v1/customers/\(teamPool)/claim", token: member)
            #expect(claimed.status == .ok && claimed.string("owner_id") == a.description, "\(claimed.text)")
        }
    }
}
