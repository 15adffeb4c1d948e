import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Issue 9 finding 2: a session that skipped the second factor never carries a sensitive
/// permission, and sessions end at an absolute time however often they are refreshed.
@Suite struct SessionSecurityTests {
    @Test func gainingASensitivePermissionEndsPasswordOnlySessionsAndRefreshAsksForTheCode() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.member(in: tenant, permissions: ["client.login"])
            let supervisorRole = try await h.call(.get, "/v1/roles", token: tenant.adminToken).data.first { $0["name"] as? String == "客服主管" }!
            let promoted = try await h.call(.put, "/v1/employees/\(agent.id)/roles", token: tenant.adminToken, json: [
                "role_ids": [supervisorRole["id"] as! String],
            ])
            #expect(promoted.status == .ok)
            // The password-only session ends at once: its access token …
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: agent.token).status == .unauthorized })
            // … and its refresh token, which never turns into sensitive permissions.
            let refreshed = try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": agent.tokens.refreshToken])
            #expect(refreshed.status == .unauthorized)
            #expect(refreshed.json["access_token"] == nil)
            // Signing in again asks for the code; with it the new session carries the permissions.
            let login = try await h.signIn(slug: tenant.slug, account: agent.account)
            #expect(login.json["mfa_required"] as? Bool == true)
        }
    }

    @Test func aRefreshOfAPasswordOnlySessionWhoseRolesTurnedSensitiveAnswersMfaRequired() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.member(in: tenant, permissions: ["client.login"])
            // The role itself gains a sensitive permission (rather than the employee a new role).
            let edited = try await h.call(.patch, "/v1/roles/\(agent.roleID)", token: tenant.adminToken, json: [
                "permissions": ["client.login", "customers.export"],
            ])
            #expect(edited.status == .ok)
            let refreshed = try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": agent.tokens.refreshToken])
            #expect(refreshed.status == .unauthorized)
            #expect(["mfa_required", "invalid_refresh_token"].contains(refreshed.code ?? ""), "\(refreshed.text)")
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: agent.token).status == .unauthorized })
        }
    }

    @Test func aSessionThatPassedTheSecondFactorKeepsRefreshing() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let manager = try await h.member(in: tenant, permissions: ["client.login", "customers.export"])
            let refreshed = try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": manager.tokens.refreshToken])
            #expect(refreshed.status == .ok)
            let me = try await h.call(.get, "/v1/me", token: refreshed.string("access_token")!)
            #expect((me.json["permissions"] as? [String])?.contains("customers.export") == true)
        }
    }

    @Test func refreshingNeverExtendsASessionPastItsAbsoluteLifetime() async throws {
        try await AccountsHarness.run(environment: ["KEFU_SESSION_LIFETIME_SECONDS": "60"]) { h in
            let tenant = try await h.createTenant()
            let agent = try await h.member(in: tenant, permissions: ["client.login"])
            var refresh = agent.tokens.refreshToken
            for _ in 0..<3 {
                let next = try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": refresh])
                try #require(next.status == .ok)
                refresh = next.string("refresh_token")!
            }
            // However often it is refreshed (each token would otherwise live 7 days), no token of
            // the session outlives the minute after its sign-in.
            let span = try await TestEnvironment.ownerQuery("""
                SELECT extract(epoch FROM max(expires_at) - min(issued_at))::int FROM accounts.refresh_tokens
                WHERE employee_id = \(UUID(uuidString: agent.id)!)
                """, as: Int.self)
            #expect(span.first ?? 0 <= 60, "\(span)")
            #expect(span.first ?? 0 >= 55)
        }
    }
}
