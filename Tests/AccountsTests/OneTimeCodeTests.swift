import Foundation
import KefuTestSupport
import Testing

/// One-time codes: one live challenge per employee and purpose, wrong codes counted per employee
/// across challenges, the code checked before any hash, and "forgot" telling nothing by its
/// answer, its timing or the reset that follows.
@Suite struct OneTimeCodeTests {
    @Test func parallelForgotCallsSendOneCode() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let phone = AccountsHarness.newPhone()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"], phone: phone)
            for account in [agent.account, "ghost"] {
                let replies = try await h.concurrently(30) { _ in
                    try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": account])
                }
                #expect(replies.filter { $0.status == .accepted }.count == 1, "\(account): \(replies.map(\.status.code))")
                let refused = replies.filter { $0.status == .tooManyRequests }
                #expect(refused.count == 29)
                #expect(refused.allSatisfy { $0.code == "rate_limited" && Int($0.headers[.retryAfter] ?? "").map { $0 > 0 } == true })
            }
            _ = try await h.sms.code(for: phone)
            try await Task.sleep(for: .milliseconds(500)) // codes are sent after the answer: let any others arrive
            #expect(await h.sms.messages(to: phone).count == 1)
        }
    }

    @Test func signingInAgainWhileACodeLivesSendsNoNewOne() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let sent = await h.sms.messages(to: tenant.adminPhone).count
            let first = try await h.signIn(slug: tenant.slug, account: tenant.adminAccount)
            let again = try await h.signIn(slug: tenant.slug, account: tenant.adminAccount)
            #expect(again.string("challenge_id") == first.string("challenge_id"), "the live challenge is answered again")
            #expect(await h.sms.messages(to: tenant.adminPhone).count == sent + 1)
            let code = try await h.sms.code(for: tenant.adminPhone)
            let right = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": again.string("challenge_id")!, "code": code])
            #expect(right.status == .ok)
        }
    }

    @Test func aResendReplacesTheLiveCode() async throws {
        try await AccountsHarness.run(environment: ["KEFU_SMS_RESEND_SECONDS": "1"]) { h in
            let tenant = try await h.createTenant()
            let sent = await h.sms.messages(to: tenant.adminPhone).count
            let first = try await h.signIn(slug: tenant.slug, account: tenant.adminAccount)
            let firstCode = try await h.sms.code(for: tenant.adminPhone, after: sent)
            try await Task.sleep(for: .milliseconds(1100))
            let resent = try await h.signIn(slug: tenant.slug, account: tenant.adminAccount)
            #expect(resent.string("challenge_id") != first.string("challenge_id"))
            let newCode = try await h.sms.code(for: tenant.adminPhone, after: sent + 1)
            let old = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": first.string("challenge_id")!, "code": firstCode])
            #expect(old.code == "code_expired", "the replaced code no longer works")
            let right = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": resent.string("challenge_id")!, "code": newCode])
            #expect(right.status == .ok)
        }
    }

    @Test func wrongResetCodesAreCountedPerEmployeeAcrossChallenges() async throws {
        try await AccountsHarness.run(environment: ["KEFU_SMS_RESEND_SECONDS": "1", "KEFU_LOCKOUT_THRESHOLD": "3"]) { h in
            let tenant = try await h.createTenant()
            let phone = AccountsHarness.newPhone()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"], phone: phone)
            func forgot() async throws -> String {
                let reply = try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": agent.account])
                try #require(reply.status == .accepted, "\(reply.json)")
                return reply.string("challenge_id")!
            }
            func reset(_ challenge: String, _ code: String) async throws -> APIReply {
                try await h.call(.post, "/v1/auth/password/reset", json: [
                    "tenant": tenant.slug, "challenge_id": challenge, "code": code, "new_password": "Newest123",
                ])
            }
            let first = try await forgot()
            let firstCode = try await h.sms.code(for: phone)
            for _ in 0..<2 { #expect(try await reset(first, firstCode == "000000" ? "000001" : "000000").code == "invalid_code") }
            try await Task.sleep(for: .milliseconds(1100))
            let second = try await forgot()
            let secondCode = try await h.sms.code(for: phone, after: 1)
            #expect(try await reset(second, secondCode == "000000" ? "000001" : "000000").code == "invalid_code")
            // Three wrong codes over two challenges: the right one is refused too, for a while
            // (answered like a wrong one: a reset tells nothing about the account).
            #expect(try await reset(second, secondCode).code == "invalid_code")
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account).status == .ok, "the password is unchanged")
            #expect(try await h.signIn(slug: tenant.slug, account: agent.account, password: "Newest123").status == .unauthorized)
        }
    }

    @Test func aSecondFactorLockOutlivesItsChallenge() async throws {
        try await AccountsHarness.run(environment: ["KEFU_LOCKOUT_THRESHOLD": "3", "KEFU_LOCKOUT_SECONDS": "60"]) { h in
            let tenant = try await h.createTenant()
            let login = try await h.signIn(slug: tenant.slug, account: tenant.adminAccount)
            let challenge = login.string("challenge_id")!
            let code = try await h.sms.code(for: tenant.adminPhone, after: 1)
            for _ in 0..<3 {
                let wrong = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": challenge, "code": code == "000000" ? "000001" : "000000"])
                #expect(wrong.code == "invalid_code")
            }
            let right = try await h.call(.post, "/v1/auth/mfa", json: ["tenant": tenant.slug, "challenge_id": challenge, "code": code])
            #expect(right.code == "code_locked")
            #expect(Int(right.headers[.retryAfter] ?? "").map { $0 > 0 && $0 <= 60 } == true)
            let anew = try await h.signIn(slug: tenant.slug, account: tenant.adminAccount)
            #expect(anew.code == "code_locked", "a new sign-in sends no new code while locked")
            #expect(await h.sms.messages(to: tenant.adminPhone).count == 2)
        }
    }

    /// Counted, not timed: the service's own bcrypt counter must not move for a wrong code.
    @Test func resetChecksTheCodeBeforeHashingAnything() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            func hashes() async throws -> Double {
                let metrics = try await h.call(.get, "/metrics").text
                return metrics.split(separator: "\n")
                    .filter { $0.hasPrefix("kefu_password_hashes_total") }
                    .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                    .reduce(0, +)
            }
            // Sanity: the counter does count (a sign-in verifies once).
            let start = try await hashes()
            _ = try await h.signIn(slug: tenant.slug, account: "ghost", password: "Wrong1234")
            let afterSignIn = try await hashes()
            #expect(afterSignIn > start)
            let reply = try await h.call(.post, "/v1/auth/password/reset", json: [
                "tenant": tenant.slug, "challenge_id": UUID().uuidString, "code": "123456", "new_password": "Newest123",
            ])
            #expect(reply.status == .unauthorized)
            #expect(try await hashes() == afterSignIn, "a wrong code costs no hash")
        }
    }

    @Test func forgotAnswersBeforeTheCodeIsSent() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let (slowPhone, failingPhone) = (AccountsHarness.newPhone(), AccountsHarness.newPhone())
            let slow = try await h.employee(in: tenant, permissions: ["client.login"], phone: slowPhone)
            let failing = try await h.employee(in: tenant, permissions: ["client.login"], phone: failingPhone)
            let ghost = try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": "ghost"])

            // The gateway keeps the message only when it answers, 3 s after the request: an answer
            // that came first did not wait for it (an order, not a timing).
            await h.sms.answer(after: .seconds(3))
            let reply = try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": slow.account])
            #expect(reply.status == .accepted)
            #expect(await h.sms.messages(to: slowPhone).isEmpty, "the gateway's wait is not the caller's")
            #expect(Set(reply.json.keys) == Set(ghost.json.keys))
            _ = try await h.sms.code(for: slowPhone) // still sent, after the answer

            await h.sms.answer(with: .badGateway)
            let failed = try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": failing.account])
            #expect(failed.status == .accepted, "the gateway's failure is logged, not answered")
            #expect(Set(failed.json.keys) == Set(ghost.json.keys))
        }
    }

    @Test func aResetAnswersAlikeForRealAndUnknownAccounts() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let phone = AccountsHarness.newPhone()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"], phone: phone)
            var replies: [APIReply] = []
            for account in [agent.account, "ghost"] {
                let forgot = try await h.call(.post, "/v1/auth/password/forgot", json: ["tenant": tenant.slug, "account": account])
                #expect(forgot.status == .accepted)
                let code = try await h.sms.code(for: phone)
                replies.append(try await h.call(.post, "/v1/auth/password/reset", json: [
                    "tenant": tenant.slug, "challenge_id": forgot.string("challenge_id")!,
                    "code": code == "000000" ? "000001" : "000000", "new_password": "Newest123",
                ]))
            }
            #expect(replies[0].status == .unauthorized)
            #expect(replies[0].status == replies[1].status)
            #expect(replies[0].code == replies[1].code)
            #expect(replies[0].string("detail") == replies[1].string("detail"))
        }
    }
}
