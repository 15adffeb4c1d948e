import Foundation
import KefuTestSupport
import Testing

@Suite struct PlatformTests {
    @Test func createsATenantWithItsSuperAdminAndRoleTemplates() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant(seats: 3)
            let shown = try await h.call(.get, "/v1/platform/tenants/\(tenant.id)", token: TestEnvironment.platformToken)
            #expect(shown.status == .ok)
            #expect(shown.string("slug") == tenant.slug)
            #expect(shown.json["seat_limit"] as? Int == 3)
            let counts = shown.json["counts"] as? [String: Int]
            #expect(counts == ["active": 1, "disabled": 0, "deleted": 0, "seats_left": 2])
            let roles = try await h.call(.get, "/v1/roles", token: tenant.adminToken)
            #expect(roles.data.compactMap { $0["kind"] as? String }.sorted() == ["super_admin", "template", "template", "template"])
            let me = try await h.call(.get, "/v1/me", token: tenant.adminToken)
            #expect((me.json["permissions"] as? [String])?.contains("enterprise.roles") == true)
        }
    }

    @Test func refusesBadInputNamingTheFieldAndWritesNothing() async throws {
        try await AccountsHarness.run { h in
            let slug = "bad-" + UUID().uuidString.prefix(8).lowercased()
            let bad = try await h.call(.post, "/v1/platform/tenants", token: TestEnvironment.platformToken, json: [
                "slug": "X!", "name": "", "seat_limit": 0,
                "admin": ["account": "a", "password": "short", "display_name": "Admin"],
            ])
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == ["slug", "name", "seat_limit", "admin.account", "admin.password", "admin.phone"])
            let noAdmin = try await h.call(.post, "/v1/platform/tenants", token: TestEnvironment.platformToken, json: [
                "slug": slug, "name": "Fine", "seat_limit": 5,
            ])
            #expect(noAdmin.fields.contains("admin"))
            let list = try await h.call(.get, "/v1/platform/tenants?limit=200", token: TestEnvironment.platformToken)
            #expect(!list.data.contains { $0["slug"] as? String == slug })
        }
    }

    @Test func aSlugIsTakenOnce() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let again = try await h.call(.post, "/v1/platform/tenants", token: TestEnvironment.platformToken, json: [
                "slug": tenant.slug, "name": "Copy", "seat_limit": 5,
                "admin": ["account": "admin", "password": AccountsHarness.password, "display_name": "A", "phone": "13800000000"],
            ])
            #expect(again.status == .conflict)
            #expect(again.code == "slug_taken")
        }
    }

    @Test func onlyThePlatformTokenOpensPlatformRoutes() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            for token in [nil, tenant.adminToken, "wrong-platform-token-0123456789"] {
                let reply = try await h.call(.get, "/v1/platform/tenants", token: token)
                #expect(reply.status == .unauthorized)
            }
            let missing = try await h.call(.get, "/v1/platform/tenants/\(UUID())", token: TestEnvironment.platformToken)
            #expect(missing.status == .notFound)
        }
    }

    @Test func listsTenantsPageByPage() async throws {
        try await AccountsHarness.run { h in
            for _ in 0..<3 { _ = try await h.createTenant() }
            var slugs: [String] = []
            var cursor: String?
            repeat {
                let page = try await h.call(
                    .get, "/v1/platform/tenants?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: TestEnvironment.platformToken
                )
                #expect(page.status == .ok)
                slugs += page.data.compactMap { $0["slug"] as? String }
                cursor = page.string("next_cursor")
            } while cursor != nil
            #expect(slugs == slugs.sorted())
            #expect(Set(slugs).count == slugs.count)
            #expect(slugs.count >= 3)
        }
    }

    @Test func theSeatLimitChangesAndIsEnforced() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant(seats: 2)
            _ = try await h.employee(in: tenant, permissions: ["client.login"])
            let full = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "third", "password": AccountsHarness.password, "display_name": "Third",
            ])
            #expect(full.status == .conflict)
            #expect(full.code == "seat_limit_reached")
            let resized = try await h.call(.patch, "/v1/platform/tenants/\(tenant.id)", token: TestEnvironment.platformToken, json: ["seat_limit": 3])
            #expect(resized.json["seat_limit"] as? Int == 3)
            let bad = try await h.call(.patch, "/v1/platform/tenants/\(tenant.id)", token: TestEnvironment.platformToken, json: ["seat_limit": 0])
            #expect(bad.fields == ["seat_limit"])
            let now = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "third", "password": AccountsHarness.password, "display_name": "Third",
            ])
            #expect(now.status == .created)
        }
    }

    @Test func aSuspendedTenantsTokensAndKeysStopWorking() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let key = try await h.call(.post, "/v1/api-keys", token: tenant.adminToken, json: ["name": "partner", "permissions": ["client.login"]])
            let secret = key.string("key")!
            #expect(try await h.call(.get, "/v1/me", token: agent.token).status == .ok)

            let suspended = try await h.call(.post, "/v1/platform/tenants/\(tenant.id)/suspend", token: TestEnvironment.platformToken)
            #expect(suspended.string("status") == "suspended")
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: agent.token).status == .unauthorized })
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account).code == "invalid_credentials")
            #expect(try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken]).status == .unauthorized)
            #expect(try await h.call(.post, "/v1/auth/api-key-token", json: ["api_key": secret]).status == .unauthorized)

            _ = try await h.call(.post, "/v1/platform/tenants/\(tenant.id)/reactivate", token: TestEnvironment.platformToken)
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account).status == .ok)
            #expect(try await h.call(.post, "/v1/auth/api-key-token", json: ["api_key": secret]).status == .ok)
        }
    }
}
