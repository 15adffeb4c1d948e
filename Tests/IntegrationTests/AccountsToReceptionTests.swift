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
    struct Client: Sendable {
        let client: any TestClientProtocol

        func call(_ method: HTTPRequest.Method, _ uri: String, token: String, json: Any? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
            var headers: HTTPFields = [.authorization: "Bearer \(token)"]
            var body: ByteBuffer?
            if let json {
                headers[.contentType] = "application/json"
                body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
            }
            return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
            }
        }
    }

    @Test func employeesDisabledInAccountsLeaveReceptionGroups() async throws {
        let accountsApp = try await buildApplication(AccountsService.self, config: try await TestEnvironment.config(for: .accounts), logger: TestEnvironment.logger)
        let receptionApp = try await buildApplication(ReceptionService.self, config: try await TestEnvironment.config(for: .reception), logger: TestEnvironment.logger)
        try await accountsApp.test(.router) { accountsClient in
            try await receptionApp.test(.router) { receptionClient in
                let accounts = Client(client: accountsClient)
                let reception = Client(client: receptionClient)
                let slug = "int-" + UUID().uuidString.prefix(8).lowercased()
                let (created, tenantJSON) = try await accounts.call(.post, "/v1/platform/tenants", token: TestEnvironment.platformToken, json: [
                    "slug": slug, "name": "Integration", "seat_limit": 10,
                    "admin": ["account": "admin", "password": "Secret123", "display_name": "Admin", "phone": "13800000000"],
                ])
                try #require(created == .created, "\(tenantJSON)")
                let tenant = try #require(TenantID((tenantJSON["tenant"] as? [String: Any])?["id"] as? String ?? ""))
                let admin = try #require(EmployeeID((tenantJSON["admin"] as? [String: Any])?["id"] as? String ?? ""))
                let token = try await TestKeys.shared.token(tenant: tenant, employee: admin, permissions: [.enterpriseOrganisation, .receptionGroups])

                let (status, employee) = try await accounts.call(.post, "/v1/employees", token: token, json: [
                    "account": "agent1", "password": "Secret123", "display_name": "Agent One", "role_ids": [String](),
                ])
                try #require(status == .created, "\(employee)")
                let agent = try #require(employee["id"] as? String)
                let group: [String: Any] = ["name": "Sales", "member_ids": [agent], "per_agent_limit": 3,
                                            "queue": ["enabled": true, "max_length": 10, "max_wait_seconds": 60]]
                var groupID: String?
                for _ in 0..<300 where groupID == nil {
                    let (status, body) = try await reception.call(.post, "/v1/groups", token: token, json: group)
                    if status == .created { groupID = body["id"] as? String } else { try await Task.sleep(for: .milliseconds(50)) }
                }
                let id = try #require(groupID, "reception never learned of the employee")

                let (disabled, _) = try await accounts.call(.post, "/v1/employees/\(agent)/disable", token: token)
                #expect(disabled == .ok || disabled == .noContent)
                var members: [String]? = [agent]
                for _ in 0..<300 where members != [] {
                    members = try await reception.call(.get, "/v1/groups/\(id)", token: token).1["member_ids"] as? [String]
                    if members != [] { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(members == [], "the disabled employee is still a member")
            }
        }
    }
}
