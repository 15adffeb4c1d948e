import Foundation
import KefuTestSupport
import Testing

@Suite struct SignInTests {
    @Test func anAgentSignsInAndReadsTheirProfile() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login", "customers.view"])
            let login = try await h.signIn(slug: tenant.slug, account: agent.account)
            #expect(login.string("token_type") == "Bearer")
            #expect((login.json["expires_in"] as? Int).map { $0 > 0 && $0 <= 900 } == true)
            let me = try await h.call(.get, "/v1/me", token: agent.token)
            #expect(me.status == .ok)
            #expect((me.json["employee"] as? [String: Any])?["account"] as? String == agent.account)
            #expect(me.json["permissions"] as? [String] == ["client.login", "customers.view"])
            #expect((me.json["tenant"] as? [String: Any])?["slug"] as? String == tenant.slug)
            #expect(try await h.call(.get, "/v1/me").status == .unauthorized)
        }
    }

    @Test func wrongPasswordsLookTheSameWhetherTheAccountExistsOrNot() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let wrong = try await h.signIn(slug: tenant.slug, account: agent.account, password: "Wrong1234")
            let unknown = try await h.signIn(slug: tenant.slug, account: "nobody", password: "Wrong1234")
            let noTenant = try await h.signIn(slug: "no-such-tenant", account: agent.account, password: "Wrong1234")
            for reply in [wrong, unknown, noTenant] {
                #expect(reply.status == .unauthorized)
                #expect(reply.code == "invalid_credentials")
                #expect(reply.string("detail") == wrong.string("detail"))
            }
            let audit = try await h.call(.get, "/v1/audit-log?action=auth.login_failed", token: tenant.adminToken)
            #expect(Set(audit.data.compactMap { $0["target_id"] as? String }) == [agent.account, "nobody"])
            #expect(audit.data.allSatisfy { $0["actor_type"] as? String == "anonymous" })
        }
    }

    @Test func repeatedFailuresLockTheAccountNameForAWhile() async throws {
        try await AccountsHarness.run(environment: ["KEFU_LOCKOUT_THRESHOLD": "3", "KEFU_LOCKOUT_SECONDS": "60"]) { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            for account in [agent.account, "ghost"] {
                for _ in 0..<3 {
                    #expect(try await h.signIn(slug: tenant.slug, account: account, password: "Wrong1234").code == "invalid_credentials")
                }
                // Locked now, even with the right password; an unknown name locks the same way.
                let locked = try await h.signIn(slug: tenant.slug, account: account)
                #expect(locked.status == .tooManyRequests)
                #expect(locked.code == "account_locked")
                #expect(Int(locked.headers[.retryAfter] ?? "").map { $0 > 0 && $0 <= 60 } == true)
            }
            let other = try await h.employee(in: tenant, permissions: ["client.login"])
            #expect(try await h.signIn(slug: tenant.slug, account: other.account).status == .ok, "other names are not locked")
        }
    }

    @Test func malformedAccountNamesAreRefusedBeforeAnythingIsWritten() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            for name in [String(repeating: "a", count: 100_000), "a b", "x", "-dash", "名字"] {
                let login = try await h.signIn(slug: tenant.slug, account: name, password: "Wrong1234")
                #expect(login.status == .unprocessableContent)
                #expect(login.fields == ["account"])
                let forgot = try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": name])
                #expect(forgot.status == .unprocessableContent)
                #expect(forgot.fields == ["account"])
            }
            let failures = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM accounts.login_failures WHERE tenant_id = \(UUID(uuidString: tenant.id)!)", as: Int.self
            )
            #expect(failures == [0], "no failure is counted for a name no account can have")
            let audit = try await h.call(.get, "/v1/audit-log?limit=200", token: tenant.adminToken)
            #expect(!audit.data.contains { ["auth.login_failed", "auth.password_forgot"].contains($0["action"] as? String) })
        }
    }

    @Test func sensitivePermissionsNeedASecondFactor() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let login = try await h.signIn(slug: tenant.slug, account: tenant.adminAccount)
            #expect(login.json["mfa_required"] as? Bool == true)
            #expect(login.string("access_token") == nil)
            #expect(login.string("phone_hint")?.hasSuffix(String(tenant.adminPhone.suffix(4))) == true)
            let challenge = login.string("challenge_id")!
            let code = try await h.sms.code(for: tenant.adminPhone)
            let wrongCode = code == "000000" ? "000001" : "000000"
            let wrong = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": challenge, "code": wrongCode])
            #expect(wrong.code == "invalid_code")
            let right = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": challenge, "code": code])
            #expect(right.status == .ok)
            #expect(right.string("access_token") != nil)
            let again = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": challenge, "code": code])
            #expect(again.code == "code_expired", "a code works once")
        }
    }

    @Test func aSecondFactorCodeAllowsFewAttempts() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let login = try await h.signIn(slug: tenant.slug, account: tenant.adminAccount)
            let challenge = login.string("challenge_id")!
            let code = try await h.sms.code(for: tenant.adminPhone)
            let wrongCode = code == "111111" ? "222222" : "111111"
            for _ in 0..<5 {
                _ = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": challenge, "code": wrongCode])
            }
            let late = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": challenge, "code": code])
            #expect(late.code == "code_expired")
        }
    }

    @Test func aSensitiveRoleWithoutAPhoneCannotSignIn() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let role = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: ["name": "orgadmin", "permissions": ["enterprise.organisation"]])
            let created = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "nophone", "password": AccountsHarness.password, "display_name": "No phone", "role_ids": [role.string("id")!],
            ])
            #expect(created.status == .created)
            let login = try await h.signIn(slug: tenant.slug, account: "nophone")
            #expect(login.status == .forbidden)
            #expect(login.code == "phone_required")
        }
    }

    @Test func refreshTokensRotateAndAReusedOneEndsTheSession() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let first = try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken])
            #expect(first.status == .ok)
            let rotated = first.string("refresh_token")!
            #expect(rotated != agent.refreshToken)
            #expect(try await h.call(.get, "/v1/me", token: first.string("access_token")!).status == .ok)

            let reused = try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken])
            #expect(reused.code == "refresh_token_reused")
            // The whole family is gone: the newest refresh token and the session's access tokens too.
            #expect(try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": rotated]).status == .unauthorized)
            let newest = first.string("access_token")!
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: newest).status == .unauthorized })
            let audit = try await h.call(.get, "/v1/audit-log?action=auth.refresh_token_reused", token: tenant.adminToken)
            #expect(audit.data.count == 1)
            for garbage in ["", "kefu_rt.x.y.z", "nonsense"] {
                #expect(try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": garbage]).status == .unauthorized)
            }
        }
    }

    @Test func logoutEndsTheSessionEverywhere() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let otherSession = try await h.signIn(slug: tenant.slug, account: agent.account)
            #expect(try await h.call(.post, "/v1/auth/logout", token: agent.token).status == .noContent)
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: agent.token).status == .unauthorized })
            #expect(try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken]).status == .unauthorized)
            #expect(try await h.call(.get, "/v1/me", token: otherSession.string("access_token")!).status == .ok, "other sessions continue")
        }
    }

    @Test func disablingAnEmployeeRevokesTheirTokens() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            #expect(try await h.call(.post, "/v1/employees/\(agent.id)/disable", token: tenant.adminToken).status == .ok)
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: agent.token).status == .unauthorized })
            #expect(try await h.call(.post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken]).status == .unauthorized)
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account).code == "invalid_credentials")
            _ = try await h.call(.post, "/v1/employees/\(agent.id)/enable", token: tenant.adminToken)
            let back = try await h.signIn(slug: tenant.slug, account: agent.account)
            #expect(back.status == .ok)
            #expect(try await h.call(.get, "/v1/me", token: back.string("access_token")!).status == .ok, "new tokens work again")
        }
    }

    @Test func passwordsChangeWithTheOldOneAndResetByPhone() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let phone = "139" + String(Int.random(in: 10_000_000...99_999_999))
            let agent = try await h.employee(in: tenant, permissions: ["client.login"], phone: phone)
            let wrongOld = try await h.call(.post, "/v1/me/password", token: agent.token, json: ["old_password": "Nope12345", "new_password": "Better123"])
            #expect(wrongOld.fields == ["old_password"])
            let weak = try await h.call(.post, "/v1/me/password", token: agent.token, json: ["old_password": AccountsHarness.password, "new_password": "short"])
            #expect(weak.fields == ["new_password"])
            #expect(try await h.call(.post, "/v1/me/password", token: agent.token,
                                     json: ["old_password": AccountsHarness.password, "new_password": "Better123"]).status == .noContent)
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account, password: "Better123").status == .ok)

            // Forgot password: the same answer for an account that does not exist.
            let ghost = try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": "ghost"])
            #expect(ghost.status == .accepted)
            let forgot = try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": agent.account])
            #expect(forgot.status == .accepted)
            #expect(Set(forgot.json.keys) == Set(ghost.json.keys))
            let code = try await h.sms.code(for: phone)
            let reset = try await h.call(.post, "/v1/auth/password/reset", json: [
                "tenant": tenant.slug, "challenge_id": forgot.string("challenge_id")!, "code": code, "new_password": "Newest123",
            ])
            #expect(reset.status == .noContent)
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account, password: "Newest123").status == .ok)
            let ghostReset = try await h.call(.post, "/v1/auth/password/reset", json: [
                "tenant": tenant.slug, "challenge_id": ghost.string("challenge_id")!, "code": code, "new_password": "Newest123",
            ])
            #expect(ghostReset.code == "invalid_code")
        }
    }

    @Test func theSigningKeyIsPublished() async throws {
        try await AccountsHarness.run { h in
            let jwks = try await h.call(.get, "/.well-known/jwks.json")
            let key = (jwks.json["keys"] as? [[String: Any]])?.first
            #expect(key?["kty"] as? String == "EC")
            #expect(key?["alg"] as? String == "ES256")
            #expect((key?["x"] as? String)?.isEmpty == false)
        }
    }
}
