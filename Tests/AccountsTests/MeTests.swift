import Foundation
import HTTPTypes
import KefuCore
import KefuTestSupport
import Testing

/// `/v1/me` is answered from memory; these prove it never shows what has changed.
@Suite struct MeTests {
    @Test func meShowsEveryChangeAtOnceInTheProcessThatMadeIt() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let first = try await h.call(.get, "/v1/me", token: agent.token)
            #expect(first.status == .ok)
            let roleID = try #require((first.json["roles"] as? [[String: Any]])?.first?["id"] as? String)

            #expect(try await h.call(.patch, "/v1/employees/\(agent.id)", token: tenant.adminToken, json: ["display_name": "Renamed"]).status == .ok)
            let renamed = try await h.call(.get, "/v1/me", token: agent.token)
            #expect((renamed.json["employee"] as? [String: Any])?["display_name"] as? String == "Renamed")

            #expect(try await h.call(.patch, "/v1/roles/\(roleID)", token: tenant.adminToken, json: [
                "permissions": ["client.login", "customers.view"],
            ]).status == .ok)
            let granted = try await h.call(.get, "/v1/me", token: agent.token)
            #expect(granted.json["permissions"] as? [String] == ["client.login", "customers.view"])

            #expect(try await h.call(.patch, "/v1/platform/tenants/\(tenant.id)", token: TestEnvironment.platformToken,
                                     json: ["name": "Renamed Co"]).status == .ok)
            let tenantRenamed = try await h.call(.get, "/v1/me", token: agent.token)
            #expect((tenantRenamed.json["tenant"] as? [String: Any])?["name"] as? String == "Renamed Co")

            let before = (tenantRenamed.json["employee"] as? [String: Any])?["updated_at"] as? String
            #expect(try await h.call(.post, "/v1/me/password", token: agent.token,
                                     json: ["old_password": AccountsHarness.password, "new_password": "Better123"]).status == .noContent)
            let after = try await h.call(.get, "/v1/me", token: agent.token)
            #expect((after.json["employee"] as? [String: Any])?["updated_at"] as? String != before)

            #expect(try await h.call(.delete, "/v1/employees/\(agent.id)", token: tenant.adminToken).status == .noContent)
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: agent.token).status == .unauthorized })
        }
    }

    /// Two accounts processes on one database: a change made through one reaches the other's
    /// answers through the event follower.
    @Test func anotherProcessesChangeReachesMe() async throws {
        try await AccountsHarness.run { mine in
            try await AccountsHarness.run { theirs in
                let tenant = try await mine.createTenant()
                let agent = try await mine.employee(in: tenant, permissions: ["client.login"])
                #expect(try await mine.call(.get, "/v1/me", token: agent.token).status == .ok)
                #expect(try await theirs.call(.patch, "/v1/employees/\(agent.id)", token: tenant.adminToken,
                                              json: ["display_name": "Changed Elsewhere"]).status == .ok)
                #expect(try await mine.eventually {
                    let me = try await mine.call(.get, "/v1/me", token: agent.token)
                    return (me.json["employee"] as? [String: Any])?["display_name"] as? String == "Changed Elsewhere"
                })
            }
        }
    }

    @Test func changingYourPasswordEndsYourOtherSessionsEverywhere() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let other = try await h.signIn(slug: tenant.slug, account: agent.account)
            let otherToken = try #require(other.string("access_token"))
            #expect(try await h.call(.post, "/v1/me/password", token: agent.token,
                                     json: ["old_password": AccountsHarness.password, "new_password": "Better123"]).status == .noContent)
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: otherToken).status == .unauthorized },
                    "the other session's access token stops, not only its refresh token")
            #expect(try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": other.string("refresh_token")!]).status == .unauthorized)
            #expect(try await h.call(.get, "/v1/me", token: agent.token).status == .ok, "this session continues")
            let published = try await TestEnvironment.ownerQuery("""
                SELECT type FROM kefu.events WHERE payload->>'employee_id' = \(agent.id)
                AND type IN ('employee.password_changed', 'auth.session_revoked') ORDER BY id
                """, as: String.self)
            #expect(published == ["employee.password_changed", "auth.session_revoked"])
        }
    }
}

/// The same middleware serves every service; accounts' creates are covered like reception's.
@Suite struct AccountsIdempotencyTests {
    @Test func aRetriedCreateWritesOnce() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let key: HTTPFields = [.idempotencyKey: UUID().uuidString]
            let first = try await h.client.call(.post, "/v1/departments", token: tenant.adminToken, json: ["name": "Sales"], headers: key)
            let retry = try await h.client.call(.post, "/v1/departments", token: tenant.adminToken, json: ["name": "Sales"], headers: key)
            #expect(first.status == .created && retry.status == .created)
            #expect(retry.id == first.id && retry.headers[.idempotentReplayed] == "true")
            let departments = try await h.call(.get, "/v1/departments", token: tenant.adminToken)
            #expect(departments.data.filter { $0["name"] as? String == "Sales" }.count == 1)
        }
    }
}
