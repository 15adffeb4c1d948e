import Foundation
import KefuTestSupport
import Testing

/// The password lockout holds under concurrency: each attempt is claimed before bcrypt runs.
@Suite struct LockoutTests {
    @Test func concurrentWrongPasswordsCannotOutrunTheLockout() async throws {
        try await AccountsHarness.run(environment: ["KEFU_LOCKOUT_THRESHOLD": "5", "KEFU_LOCKOUT_SECONDS": "60"]) { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let replies = try await h.concurrently(40) { _ in
                try await h.signIn(slug: tenant.slug, account: agent.account, password: "Wrong1234")
            }
            // A 401 is a password that was checked; a 429 was refused before bcrypt.
            #expect(replies.filter { $0.status == .unauthorized }.count == 5, "\(replies.map(\.status.code))")
            #expect(replies.filter { $0.code == "account_locked" }.count == 35)
            let right = try await h.signIn(slug: tenant.slug, account: agent.account)
            #expect(right.code == "account_locked", "the right password is refused once locked")
            #expect(Int(right.headers[.retryAfter] ?? "").map { $0 > 0 && $0 <= 60 } == true)
        }
    }

    @Test func wrongOldPasswordsCountAndLockThePasswordChangeAndTheSignIn() async throws {
        try await AccountsHarness.run(environment: ["KEFU_LOCKOUT_THRESHOLD": "3", "KEFU_LOCKOUT_SECONDS": "60"]) { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let replies = try await h.concurrently(20) { _ in
                try await h.call(.post, "/v1/me/password", token: agent.token, json: ["old_password": "Wrong1234", "new_password": "Better123"])
            }
            #expect(replies.filter { $0.fields == ["old_password"] }.count == 3, "\(replies.map(\.status.code))")
            #expect(replies.filter { $0.code == "account_locked" }.count == 17)
            let right = try await h.call(.post, "/v1/me/password", token: agent.token,
                                         json: ["old_password": AccountsHarness.password, "new_password": "Better123"])
            #expect(right.status == .tooManyRequests)
            #expect(right.headers[.retryAfter] != nil)
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account).code == "account_locked",
                    "one count per password, whichever route guesses it")
        }
    }

    @Test func aRightPasswordClearsTheCount() async throws {
        try await AccountsHarness.run(environment: ["KEFU_LOCKOUT_THRESHOLD": "3"]) { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            for _ in 0..<2 {
                #expect(try await h.signIn(slug: tenant.slug, account: agent.account, password: "Wrong1234").code == "invalid_credentials")
            }
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account).status == .ok)
            for _ in 0..<2 {
                #expect(try await h.signIn(slug: tenant.slug, account: agent.account, password: "Wrong1234").code == "invalid_credentials")
            }
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account).status == .ok, "the earlier failures were forgotten")
        }
    }
}
