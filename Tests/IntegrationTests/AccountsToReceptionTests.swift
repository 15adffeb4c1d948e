import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
import Reception
import Testing

/// Accounts and reception running side by side on one database, as in production: employees
/// made and disabled through the accounts API reach reception's groups through the outbox.
@Suite struct AccountsToReceptionTests {
    @Test func employeesDisabledInAccountsLeaveReceptionGroups() async throws {
        let accountsApp = try await buildApplication(AccountsService.self, config: try await TestEnvironment.config(for: .accounts), logger: TestEnvironment.logger)
        let receptionApp = try await buildApplication(ReceptionService.self, config: try await TestEnvironment.config(for: .reception), logger: TestEnvironment.logger)
        try await accountsApp.test(.router) { accountsClient in
            try await receptionApp.test(.router) { receptionClient in
                let (accounts, reception) = (accountsClient, receptionClient)
                let slug = "int-" + UUID().uuidString.prefix(8).lowercased()
                let tenantReply = try await accounts.call(.post, "/v1/platform/tenants", token: TestEnvironment.platformToken, json: [
                    "slug": slug, "name": "Integration", "seat_limit": 10,
                    "admin": ["account": "admin", "password": "Secret123", "display_name": "Admin", "phone": "13800000000"],
                ])
                let tenantJSON = tenantReply.json
                try #require(tenantReply.status == .created, "\(tenantJSON)")
                let tenant = try #require(TenantID((tenantJSON["tenant"] as? [String: Any])?["id"] as? String ?? ""))
                let admin = try #require(EmployeeID((tenantJSON["admin"] as? [String: Any])?["id"] as? String ?? ""))
                let token = try await TestKeys.shared.token(tenant: tenant, employee: admin, permissions: [.enterpriseOrganisation, .receptionGroups, .enterpriseAuditLog])

                let employee = try await accounts.call(.post, "/v1/employees", token: token, json: [
                    "account": "agent1", "password": "Secret123", "display_name": "Agent One", "role_ids": [String](),
                ])
                try #require(employee.status == .created, "\(employee.text)")
                let agent = try #require(employee.id)
                let group: [String: Any] = ["name": "Sales", "member_ids": [agent], "per_agent_limit": 3,
                                            "queue": ["enabled": true, "max_length": 10, "max_wait_seconds": 60]]
                var groupID: String?
                for _ in 0..<300 where groupID == nil {
                    let reply = try await reception.call(.post, "/v1/groups", token: token, json: group)
                    if reply.status == .created { groupID = reply.id } else { try await Task.sleep(for: .milliseconds(50)) }
                }
                let id = try #require(groupID, "reception never learned of the employee")

                let disabled = try await accounts.call(.post, "/v1/employees/\(agent)/disable", token: token).status
                #expect(disabled == .ok || disabled == .noContent)
                var members: [String]? = [agent]
                for _ in 0..<300 where members != [] {
                    members = try await reception.call(.get, "/v1/groups/\(id)", token: token).json["member_ids"] as? [String]
                    if members != [] { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(members == [], "the disabled employee is still a member")

                // Reception's admin writes are in the tenant's one audit log, kept by accounts.
                var entry: [String: Any]?
                for _ in 0..<300 where entry == nil {
                    entry = try await accounts.call(.get, "/v1/audit-log?action=reception.group.created", token: token).data.first
                    if entry == nil { try await Task.sleep(for: .milliseconds(50)) }
                }
                let recorded = try #require(entry, "reception's change never reached the audit log")
                #expect(recorded["actor_id"] as? String == admin.description && recorded["target_id"] as? String == id)
                #expect((recorded["after"] as? [String: Any])?["name"] as? String == "Sales")
            }
        }
    }
}
