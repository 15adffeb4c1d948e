import Foundation
import HTTPTypes
import NIOCore
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// `Idempotency-Key` (IdempotencyMiddleware, in every service): a retried POST writes once.
@Suite struct IdempotencyTests {
    func key() -> HTTPFields { [.idempotencyKey: "key-" + UUID().uuidString] }

    func channelCount(_ h: ReceptionHarness, _ tenant: ReceptionHarness.Tenant) async throws -> Int {
        try await h.call(.get, "/v1/channels?limit=100", token: tenant.admin).data.count
    }

    @Test func aRetryGetsTheFirstResponseAndWritesNothing() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let key = key()
            let body = Bodies.webChannel()
            let first = try await h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key)
            #expect(first.status == .created)
            #expect(first.headers[.idempotentReplayed] == nil)
            let retry = try await h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key)
            #expect(retry.status == .created)
            #expect(retry.body == first.body)
            #expect(retry.headers[.contentType] == first.headers[.contentType])
            #expect(retry.headers[.idempotentReplayed] == "true")
            #expect(try await channelCount(h, tenant) == 1)
            let events = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = 'reception.config_changed'", as: Int.self)
            #expect(events == [1], "one write, one event")

            // Without a key, the same body is a new request (and here a duplicate name).
            #expect(try await h.call(.post, "/v1/channels", token: tenant.admin, json: body).status == .conflict)
        }
    }

    /// Clients re-serialise on retry: the same JSON in another key order is the same request.
    @Test func theKeyOrderOfTheJSONDoesNotMatter() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            var headers = key()
            headers[.authorization] = "Bearer \(tenant.admin)"
            headers[.contentType] = "application/json"
            var replies: [APIReply] = []
            for raw in [#"{"name": "Ordered", "type": "web", "enabled": true}"#, #"{"enabled":true,"type":"web","name":"Ordered"}"#] {
                replies.append(try await h.client.execute(uri: "/v1/channels", method: .post, headers: headers, body: ByteBuffer(string: raw)) {
                    APIReply(status: $0.status, headers: $0.headers, body: Data(buffer: $0.body))
                })
            }
            #expect(replies.map(\.status) == [.created, .created])
            #expect(replies[1].headers[.idempotentReplayed] == "true" && replies[1].id == replies[0].id)
        }
    }

    @Test func theSameKeyForAnotherRequestIsRefused() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let key = key()
            #expect(try await h.call(.post, "/v1/channels", token: tenant.admin, json: Bodies.webChannel("One"), headers: key).status == .created)
            let other = try await h.call(.post, "/v1/channels", token: tenant.admin, json: Bodies.webChannel("Two"), headers: key)
            #expect(other.status == .unprocessableContent)
            #expect(other.code == "idempotency_key_reused")
            #expect(other.fields == ["Idempotency-Key"])
            let elsewhere = try await h.call(.post, "/v1/materials", token: tenant.admin,
                                             json: ["title": "Hello", "content": ["type": "text", "text": "Hi"]], headers: key)
            #expect(elsewhere.code == "idempotency_key_reused", "another path is another request")
            #expect(try await channelCount(h, tenant) == 1)

            for bad in ["", String(repeating: "k", count: 256), "has space", "naïve"] {
                var headers = HTTPFields()
                headers[.idempotencyKey] = bad
                let refused = try await h.call(.post, "/v1/channels", token: tenant.admin, json: Bodies.webChannel(), headers: headers)
                #expect(refused.status == .unprocessableContent && refused.fields == ["Idempotency-Key"], "\(bad)")
            }
            #expect(try await channelCount(h, tenant) == 1)
        }
    }

    /// Nothing is written when a request is refused, so its key stays free for the corrected one.
    @Test func aRefusedRequestLeavesItsKeyFree() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let key = key()
            var body = Bodies.webChannel()
            body["name"] = ""
            #expect(try await h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key).fields == ["name"])
            let stored = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM kefu.idempotency_keys WHERE tenant_id = \(tenant.id.uuid)", as: Int.self)
            #expect(stored == [0])
            body["name"] = "Fixed"
            #expect(try await h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key).status == .created)
        }
    }

    /// Keys belong to their caller: another employee, or another tenant, with the same key and
    /// body makes its own request and never sees the first one's response.
    @Test func keysBelongToTheirCaller() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let colleague = try await h.token(tenant, ReceptionHarness.allPermissions)
            let stranger = try await h.tenant()
            let key = key()
            let first = try await h.call(.post, "/v1/materials", token: tenant.admin,
                                         json: ["title": "Hello", "content": ["type": "text", "text": "Hi"]], headers: key)
            let second = try await h.call(.post, "/v1/materials", token: colleague,
                                          json: ["title": "Hello 2", "content": ["type": "text", "text": "Hi"]], headers: key)
            let foreign = try await h.call(.post, "/v1/materials", token: stranger.admin,
                                           json: ["title": "Hello", "content": ["type": "text", "text": "Hi"]], headers: key)
            #expect([first.status, second.status, foreign.status] == [.created, .created, .created])
            #expect(Set([first.id, second.id, foreign.id]).count == 3)
            #expect(foreign.headers[.idempotentReplayed] == nil)
        }
    }

    /// A first request that wrote but never stored its response (its process died in between)
    /// leaves the key taken: a retry waits a moment, then hears 409 rather than writing again;
    /// after a minute it hears that the response is lost.
    @Test func aKeyWhoseResponseWasLostIsInUse() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let key = key()
            let body = Bodies.webChannel()
            #expect(try await h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key).status == .created)
            _ = try await TestEnvironment.ownerQuery(
                "UPDATE kefu.idempotency_keys SET status = NULL, headers = NULL, body = NULL WHERE tenant_id = \(tenant.id.uuid) RETURNING 1", as: Int.self)
            let retry = try await h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key)
            #expect(retry.status == .conflict && retry.code == "idempotency_key_in_use")
            #expect(retry.headers[.retryAfter] == "1")
            // A minute on, nobody is still working on it: the answer says the response is lost.
            _ = try await TestEnvironment.ownerQuery(
                "UPDATE kefu.idempotency_keys SET created_at = now() - interval '2 minutes' WHERE tenant_id = \(tenant.id.uuid) RETURNING 1", as: Int.self)
            let later = try await h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key)
            #expect(later.status == .conflict && later.code == "idempotency_response_lost")
            #expect(try await channelCount(h, tenant) == 1)
        }
    }

    /// A retry arriving after the first request committed but before it stored its response
    /// waits for that response (it was answered 409 at once, so racing retries got other answers).
    @Test func aRetryWaitsForAResponseBeingStored() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let key = key()
            let body = Bodies.webChannel()
            let first = try await h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key)
            #expect(first.status == .created)
            // As if the first request were between its commit and storing its response.
            let kept = try await TestEnvironment.ownerQuery("""
                WITH old AS (SELECT status, headers, body FROM kefu.idempotency_keys WHERE tenant_id = \(tenant.id.uuid))
                UPDATE kefu.idempotency_keys SET status = NULL, headers = NULL, body = NULL WHERE tenant_id = \(tenant.id.uuid)
                RETURNING (SELECT status FROM old)::int
                """, as: Int.self)
            #expect(kept == [201])
            async let retry = h.call(.post, "/v1/channels", token: tenant.admin, json: body, headers: key)
            try await Task.sleep(for: .milliseconds(300))
            _ = try await TestEnvironment.ownerQuery("""
                UPDATE kefu.idempotency_keys SET status = 201, headers = '{}'::jsonb, body = \(first.body) WHERE tenant_id = \(tenant.id.uuid) RETURNING 1
                """, as: Int.self)
            let replayed = try await retry
            #expect(replayed.status == .created && replayed.body == first.body, "\(replayed.status) \(replayed.text)")
            #expect(replayed.headers[.idempotentReplayed] == "true")
            #expect(try await channelCount(h, tenant) == 1)
        }
    }

    @Test func concurrentRetriesWriteOnceAndAllGetTheSameAnswer() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let key = key()
            let name = "Web " + UUID().uuidString.prefix(6)
            let replies = try await withThrowingTaskGroup(of: APIReply.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await h.call(.post, "/v1/channels", token: tenant.admin, json: Bodies.webChannel(name), headers: key) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == .created }, "\(replies.map(\.status))")
            #expect(Set(replies.map(\.body)).count == 1)
            #expect(replies.filter { $0.headers[.idempotentReplayed] == nil }.count == 1)
            #expect(try await channelCount(h, tenant) == 1)
        }
    }
}
