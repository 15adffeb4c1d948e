import Foundation
import KefuTestSupport
import Testing

/// The anonymous auth routes are limited per client address and per account, in Postgres, so
/// that replicas share the count.
@Suite struct RateLimitTests {
    @Test func signInIsLimitedPerAccountAcrossReplicas() async throws {
        let environment = ["KEFU_RATE_LIMIT_PER_ACCOUNT": "3"]
        try await AccountsHarness.run(environment: environment) { a in
            try await AccountsHarness.run(environment: environment) { b in
                let tenant = try await a.createTenant()
                let agent = try await a.employee(in: tenant, permissions: ["client.login"]) // signs in once
                #expect(try await a.signIn(slug: tenant.slug, account: agent.account).status == .ok)
                #expect(try await b.signIn(slug: tenant.slug, account: agent.account).status == .ok)
                for replica in [b, a] {
                    let refused = try await replica.signIn(slug: tenant.slug, account: agent.account)
                    #expect(refused.status == .tooManyRequests)
                    #expect(refused.code == "rate_limited")
                    #expect(Int(refused.headers[.retryAfter] ?? "").map { $0 > 0 && $0 <= 60 } == true)
                }
                // Another account of the same tenant is not limited by this one.
                let other = try await b.employee(in: tenant, permissions: ["client.login"])
                #expect(try await a.signIn(slug: tenant.slug, account: other.account).status == .ok)
            }
        }
    }

    /// Over a real socket, so that requests come from an address (127.0.0.1, which no other test
    /// uses). No tenant is needed: the limit comes before any lookup.
    @Test func everyAnonymousAuthRouteIsLimitedPerAddress() async throws {
        try await AccountsHarness.run(environment: ["KEFU_RATE_LIMIT_PER_ADDRESS": "3"], live: true) { h in
            let requests: [(String, @Sendable (Int) -> [String: Any])] = [
                ("/v1/auth/login", { ["tenant": "no-such-tenant", "account": "name\($0)", "password": "Wrong1234"] }),
                ("/v1/auth/mfa", { _ in ["tenant": "no-such-tenant", "challenge_id": UUID().uuidString, "code": "123456"] }),
                ("/v1/auth/password/forgot", { ["tenant": "no-such-tenant", "account": "name\($0)"] }),
                ("/v1/auth/password/reset", { _ in
                    ["tenant": "no-such-tenant", "challenge_id": UUID().uuidString, "code": "123456", "new_password": "Newest123"]
                }),
            ]
            for (path, body) in requests {
                for index in 0..<3 {
                    #expect(try await h.call(.post, path, json: body(index)).status != .tooManyRequests, "\(path) #\(index)")
                }
                let refused = try await h.call(.post, path, json: body(3))
                #expect(refused.status == .tooManyRequests, "\(path)")
                #expect(refused.code == "rate_limited", "\(path)")
                #expect(refused.headers[.retryAfter] != nil, "\(path)")
            }
        }
    }
}
