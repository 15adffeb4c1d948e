import Foundation
import KefuTestSupport
import Testing

/// Issue 9 finding 7: concurrent enables and creates never pass the seat limit (the tenant row is
/// locked while the seats are counted).
@Suite struct SeatLimitRaceTests {
    @Test func tenConcurrentEnablesOnAThreeSeatTenantLeaveThreeActive() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant(seats: 3)
            // Ten disabled employees (each created, taking a seat, then disabled, freeing it).
            var disabled: [String] = []
            for index in 0..<10 {
                let created = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                    "account": "seat\(index)", "password": AccountsHarness.password, "display_name": "Seat \(index)",
                ])
                try #require(created.status == .created, "\(created.text)")
                try #require(try await h.call(.post, "/v1/employees/\(created.id!)/disable", token: tenant.adminToken).status == .ok)
                disabled.append(created.id!)
            }
            // One seat is taken (the admin): ten enables race for the two left.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for id in disabled {
                    group.addTask { Int(try await h.call(.post, "/v1/employees/\(id)/enable", token: tenant.adminToken).status.code) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 2, "\(statuses.sorted())")
            #expect(statuses.filter { $0 == 409 }.count == 8, "\(statuses.sorted())")
            let counts = try await h.call(.get, "/v1/employees/counts", token: tenant.adminToken)
            #expect(counts.json["active"] as? Int == 3)
        }
    }
}
