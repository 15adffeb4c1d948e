@testable import Accounts
import Foundation
import HTTPTypes
import KefuCore
import KefuTestSupport
import Testing

/// Webhook delivery end to end: real outbox events (or test messages), the real dispatcher, a
/// real HTTP receiver on 127.0.0.1. The schedule is the tests' short one (TestEnvironment):
/// five attempts 0.1 s apart, a 30 s timeout. Nothing here measures time; waits are bounds.
@Suite struct WebhookDeliveryTests {
    struct Hook {
        let id: String
        let secret: String
    }

    func webhook(_ h: AccountsHarness, _ tenant: AccountsHarness.Tenant, url: String, types: [String] = ["department.changed"]) async throws -> Hook {
        let created = try await h.call(.post, "/v1/webhooks", token: tenant.adminToken, json: ["url": url, "event_types": types])
        try #require(created.status == .created, "\(created.text)")
        return Hook(id: created.string("id")!, secret: created.string("secret")!)
    }

    /// The receiver's view: every `v1,` signature of the request, checked against `secret`.
    func validSignatures(_ request: WebhookReceiver.Received, _ secret: String) throws -> Int {
        let key = try #require(WebhookSecret(secret))
        let id = try #require(request.header("webhook-id"))
        let timestamp = try #require(request.header("webhook-timestamp").flatMap(Int.init))
        #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 300, "a fresh timestamp on every attempt")
        let expected = key.signature(id: id, timestamp: timestamp, body: request.body)
        return (request.header("webhook-signature") ?? "").split(separator: " ").filter { $0 == expected }.count
    }

    /// Waits until the delivery has finished (succeeded or failed), then returns it with its attempts.
    func finished(_ h: AccountsHarness, _ tenant: AccountsHarness.Tenant, _ hook: Hook, _ delivery: String) async throws -> APIReply {
        for _ in 0..<1200 {
            let shown = try await h.call(.get, "/v1/webhooks/\(hook.id)/deliveries/\(delivery)", token: tenant.adminToken)
            if shown.string("status") != "pending" { return shown }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("delivery \(delivery) never finished")
        throw WebhookReceiverError.noPort
    }

    func attempts(_ reply: APIReply) -> [[String: Any]] { reply.json["attempts"] as? [[String: Any]] ?? [] }

    func test(_ h: AccountsHarness, _ tenant: AccountsHarness.Tenant, _ hook: Hook) async throws -> String {
        let sent = try await h.call(.post, "/v1/webhooks/\(hook.id)/test", token: tenant.adminToken)
        try #require(sent.status == .accepted, "\(sent.text)")
        return sent.string("id")!
    }

    @Test func failingThreeTimesThenSucceedingIsFourAttemptsOfOneSignedMessage() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                await receiver.script("/flaky", [.init(.internalServerError), .init(.internalServerError), .init(.internalServerError)])
                let hook = try await webhook(h, tenant, url: base + "/flaky")
                let department = try await h.department(in: tenant, name: "Sales")
                let requests: [WebhookReceiver.Received]
                do { requests = try await receiver.waitFor(4, at: "/flaky") } catch {
                    let log = try await h.call(.get, "/v1/webhooks/\(hook.id)/deliveries", token: tenant.adminToken)
                    let id = log.data.first?["id"] as? String ?? ""
                    let shown = try await h.call(.get, "/v1/webhooks/\(hook.id)/deliveries/\(id)", token: tenant.adminToken)
                    Issue.record("\(error): \(shown.text)")
                    throw error
                }
                #expect(Set(requests.map { $0.header("webhook-id") }).count == 1, "one webhook-id across retries")
                for request in requests { #expect(try validSignatures(request, hook.secret) == 1) }
                #expect(Set(requests.map(\.body)).count == 1, "the same body every time")
                let body = try #require(try JSONSerialization.jsonObject(with: requests[0].body) as? [String: Any])
                #expect(body["type"] as? String == "department.changed")
                #expect(body["timestamp"] is String)
                #expect((body["data"] as? [String: Any])?["department_id"] as? String == department)

                let log = try await h.call(.get, "/v1/webhooks/\(hook.id)/deliveries", token: tenant.adminToken)
                #expect(log.data.count == 1)
                let delivery = try #require(log.data.first?["id"] as? String)
                #expect(delivery == requests[0].header("webhook-id"))
                let shown = try await finished(h, tenant, hook, delivery)
                #expect(shown.string("status") == "succeeded")
                #expect(shown.json["attempt_count"] as? Int == 4)
                #expect(attempts(shown).map { $0["status_code"] as? Int } == [500, 500, 500, 200])
                #expect(attempts(shown).map { $0["succeeded"] as? Bool } == [false, false, false, true])
                #expect(attempts(shown).last?["response_excerpt"] as? String == "ok")
                #expect(attempts(shown).allSatisfy { $0["latency_ms"] is Int && $0["attempted_at"] is String })
                #expect((shown.json["payload"] as? [String: Any])?["type"] as? String == "department.changed")
                #expect(await receiver.requests(to: "/flaky").count == 4, "nothing after the success")
            }
        }
    }

    @Test func aRedirectIsAFailureAndIsNeverFollowed() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                let moved = WebhookReceiver.Answer(.found, headers: ["Location": base + "/elsewhere"])
                await receiver.script("/moved", Array(repeating: moved, count: 5))
                let hook = try await webhook(h, tenant, url: base + "/moved")
                let shown = try await finished(h, tenant, hook, try await test(h, tenant, hook))
                #expect(shown.string("status") == "failed")
                #expect(attempts(shown).map { $0["status_code"] as? Int } == [302, 302, 302, 302, 302], "the whole schedule, then failed: \(shown.text)")
                #expect(await receiver.requests(to: "/elsewhere").isEmpty)
            }
        }
    }

    @Test func noAnswerWithinTheTimeoutIsAFailure() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                await receiver.script("/slow", [.init(.ok, delay: .seconds(32))])
                let hook = try await webhook(h, tenant, url: base + "/slow")
                let shown = try await finished(h, tenant, hook, try await test(h, tenant, hook))
                #expect(shown.string("status") == "succeeded")
                let first = try #require(attempts(shown).first)
                #expect(first["status_code"] == nil)
                #expect(first["succeeded"] as? Bool == false)
                #expect((first["error"] as? String)?.contains("no answer within 30 s") == true, "\(shown.text)")
                #expect(attempts(shown).count == 2, "\(shown.text)")
            }
        }
    }

    @Test func goneDisablesTheEndpointAtOnceAuditedAndAnnounced() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                await receiver.script("/gone", [.init(.gone)])
                let hook = try await webhook(h, tenant, url: base + "/gone")
                let shown = try await finished(h, tenant, hook, try await test(h, tenant, hook))
                #expect(shown.string("status") == "failed")
                #expect(attempts(shown).map { $0["status_code"] as? Int } == [410])
                let endpoint = try await h.call(.get, "/v1/webhooks/\(hook.id)", token: tenant.adminToken)
                #expect(endpoint.json["enabled"] as? Bool == false)
                #expect(endpoint.string("disabled_reason") == "gone")
                let audit = try await h.call(.get, "/v1/audit-log?target_id=\(hook.id)", token: tenant.adminToken)
                let disabled = audit.data.first { $0["action"] as? String == "webhook.disabled" }
                #expect(disabled?["actor_type"] as? String == "system")
                let events = try await TestEnvironment.ownerQuery("""
                    SELECT payload->>'reason' FROM kefu.events WHERE tenant_id = \(UUID(uuidString: tenant.id)!) AND type = 'webhook.disabled'
                    """, as: String.self)
                #expect(events == ["gone"])
                // Disabled: a new message waits, unsent, until the endpoint is enabled again.
                let waiting = try await test(h, tenant, hook)
                let enabled = try await h.call(.patch, "/v1/webhooks/\(hook.id)", token: tenant.adminToken, json: ["enabled": true])
                #expect(enabled.json["disabled_reason"] == nil)
                #expect(try await finished(h, tenant, hook, waiting).string("status") == "succeeded")
                #expect(await receiver.requests(to: "/gone").count == 2)
            }
        }
    }

    @Test func anEndpointFailingForDaysIsDisabled() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                await receiver.script("/down", [.init(.badGateway)])
                let hook = try await webhook(h, tenant, url: base + "/down")
                // Its failures began six days ago (past the five-day default).
                _ = try await TestEnvironment.ownerQuery("""
                    UPDATE accounts.webhooks SET failing_since = now() - interval '6 days' WHERE id = \(UUID(uuidString: hook.id)!) RETURNING id
                    """, as: UUID.self)
                let delivery = try await test(h, tenant, hook)
                let disabled = try await h.eventually {
                    try await h.call(.get, "/v1/webhooks/\(hook.id)", token: tenant.adminToken).json["enabled"] as? Bool == false
                }
                #expect(disabled)
                let endpoint = try await h.call(.get, "/v1/webhooks/\(hook.id)", token: tenant.adminToken)
                #expect(endpoint.string("disabled_reason") == "failing")
                // One failure past the period disabled it; the message waits for it to be enabled.
                let shown = try await h.call(.get, "/v1/webhooks/\(hook.id)/deliveries/\(delivery)", token: tenant.adminToken)
                #expect(attempts(shown).map { $0["status_code"] as? Int } == [502])
                #expect(shown.string("status") == "pending")
                _ = try await h.call(.patch, "/v1/webhooks/\(hook.id)", token: tenant.adminToken, json: ["enabled": true])
                #expect(try await finished(h, tenant, hook, delivery).string("status") == "succeeded")
            }
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                await receiver.script("/busy", [.init(.serviceUnavailable, headers: ["Retry-After": "2"])])
                let hook = try await webhook(h, tenant, url: base + "/busy")
                let shown = try await finished(h, tenant, hook, try await test(h, tenant, hook))
                let times = try attempts(shown).map { try #require(($0["attempted_at"] as? String).flatMap(Self.date)) }
                try #require(times.count == 2, "\(shown.text)")
                // The schedule says 0.1 s; the receiver asked for 2.
                #expect(times[1].timeIntervalSince(times[0]) >= 2)
            }
        }
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    @Test func afterARotationBothSecretsSign() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                let hook = try await webhook(h, tenant, url: base + "/rotated")
                let rotated = try await h.call(.post, "/v1/webhooks/\(hook.id)/rotate-secret", token: tenant.adminToken)
                let newSecret = try #require(rotated.string("secret"))
                _ = try await test(h, tenant, hook)
                let request = try #require(try await receiver.waitFor(1, at: "/rotated").first)
                #expect(request.header("webhook-signature")?.split(separator: " ").count == 2)
                #expect(try validSignatures(request, newSecret) == 1)
                #expect(try validSignatures(request, hook.secret) == 1)
                #expect(request.header("webhook-signature")?.hasPrefix(WebhookSecret(newSecret)!.signature(
                    id: request.header("webhook-id")!, timestamp: Int(request.header("webhook-timestamp")!)!, body: request.body
                )) == true, "the new secret's first")
            }
        }
    }

    @Test func redeliverySendsTheSameMessageAgain() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                let hook = try await webhook(h, tenant, url: base + "/again")
                let delivery = try await test(h, tenant, hook)
                _ = try await finished(h, tenant, hook, delivery)
                let again = try await h.call(.post, "/v1/webhooks/\(hook.id)/deliveries/\(delivery)/redeliver", token: tenant.adminToken)
                #expect(again.status == .accepted)
                let requests = try await receiver.waitFor(2, at: "/again")
                #expect(requests.map { $0.header("webhook-id") } == [delivery, delivery])
                #expect(requests[0].body == requests[1].body)
                #expect(attempts(try await finished(h, tenant, hook, delivery)).count == 2)
            }
        }
    }

    @Test func aReplayDeliversWhatADisabledEndpointMissed() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                let hook = try await webhook(h, tenant, url: base + "/replayed")
                _ = try await h.call(.patch, "/v1/webhooks/\(hook.id)", token: tenant.adminToken, json: ["enabled": false])
                let since = Date().addingTimeInterval(-60)
                let department = try await h.department(in: tenant, name: "Missed")
                let tenantID = try #require(UUID(uuidString: tenant.id))
                // Re-enabled only once the fan-out has passed the event (while the endpoint was
                // off): else it could still deliver it itself and the replay find it scheduled.
                #expect(try await h.eventually {
                    try await TestEnvironment.ownerQuery("""
                        SELECT count(*)::int FROM kefu.event_cursors c, kefu.events e
                        WHERE c.consumer = 'accounts.webhooks' AND e.tenant_id = \(tenantID)
                          AND (c.last_txid, c.last_id) >= (e.txid, e.id)
                        """, as: Int.self) == [try await TestEnvironment.ownerQuery(
                        "SELECT count(*)::int FROM kefu.events WHERE tenant_id = \(tenantID)", as: Int.self
                    ).first ?? -1]
                }, "the fan-out passed the tenant's events")
                _ = try await h.call(.patch, "/v1/webhooks/\(hook.id)", token: tenant.adminToken, json: ["enabled": true])
                let until = ISO8601DateFormatter().string(from: Date().addingTimeInterval(60))
                let replay = try await h.call(.post, "/v1/webhooks/\(hook.id)/replay", token: tenant.adminToken, json: [
                    "since": ISO8601DateFormatter().string(from: since), "until": until,
                ])
                #expect(replay.status == .accepted)
                #expect(replay.json["scheduled"] as? Int == 1)
                let request = try #require(try await receiver.waitFor(1, at: "/replayed").first)
                let body = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
                #expect((body["data"] as? [String: Any])?["department_id"] as? String == department)
                // Delivered: replaying again schedules nothing.
                _ = try await finished(h, tenant, hook, request.header("webhook-id")!)
                let twice = try await h.call(.post, "/v1/webhooks/\(hook.id)/replay", token: tenant.adminToken, json: [
                    "since": ISO8601DateFormatter().string(from: since), "until": until,
                ])
                #expect(twice.json["scheduled"] as? Int == 0)
            }
        }
    }

    @Test func anotherTenantsDeliveriesAreNotFound() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let victim = try await h.createTenant()
                let hook = try await webhook(h, victim, url: base + "/victim")
                let delivery = try await test(h, victim, hook)
                let attacker = try await h.createTenant()
                let own = try await webhook(h, attacker, url: base + "/attacker")
                for (method, path) in [
                    (HTTPRequest.Method.get, "/v1/webhooks/\(hook.id)/deliveries"),
                    (.get, "/v1/webhooks/\(hook.id)/deliveries/\(delivery)"),
                    (.get, "/v1/webhooks/\(own.id)/deliveries/\(delivery)"),
                    (.post, "/v1/webhooks/\(own.id)/deliveries/\(delivery)/redeliver"),
                    (.post, "/v1/webhooks/\(hook.id)/test"),
                ] {
                    #expect(try await h.call(method, path, token: attacker.adminToken).status == .notFound, "\(method) \(path)")
                }
                #expect(try await h.call(.get, "/v1/webhooks/\(own.id)/deliveries", token: attacker.adminToken).data.isEmpty)
                _ = try await finished(h, victim, hook, delivery)
                #expect(await receiver.requests(to: "/victim").count == 1)
                #expect(await receiver.requests(to: "/attacker").isEmpty)
            }
        }
    }

    /// A hanging endpoint fills its own slots only: another endpoint's message goes out while
    /// the first one's attempts are still waiting for their timeout (before any of them is retried).
    @Test func aHangingEndpointDelaysNoOtherEndpoint() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                await receiver.script("/hanging", Array(repeating: .init(.ok, delay: .seconds(32)), count: 6))
                let hanging = try await webhook(h, tenant, url: base + "/hanging")
                let otherTenant = try await h.createTenant()
                let fast = try await webhook(h, otherTenant, url: base + "/fast")
                for _ in 0..<6 { _ = try await test(h, tenant, hanging) }
                _ = try await receiver.waitFor(4, at: "/hanging")
                let fastDelivery = try await test(h, otherTenant, fast)
                _ = try await receiver.waitFor(1, at: "/fast")
                // Its first attempt succeeded: it did not wait for a connection the hanging
                // endpoint held (both are on one host).
                let fastShown = try await finished(h, otherTenant, fast, fastDelivery)
                #expect(attempts(fastShown).map { $0["status_code"] as? Int } == [200], "\(fastShown.text)")
                let order = await receiver.received
                let fastAt = try #require(order.firstIndex { $0.path == "/fast" })
                var seen = Set<String>()
                var firstRetry = order.count
                for (index, request) in order.enumerated() where request.path == "/hanging" {
                    guard let id = request.header("webhook-id"), seen.insert(id).inserted else {
                        firstRetry = index
                        break
                    }
                }
                #expect(fastAt < firstRetry, "the other endpoint's message went out before the hanging one's timed out")
            }
        }
    }

    @Test func theLogIsPagedNewestFirst() async throws {
        try await withWebhookReceiver { base, receiver in
            try await AccountsHarness.run { h in
                let tenant = try await h.createTenant()
                let hook = try await webhook(h, tenant, url: base + "/paged")
                var sent: [String] = []
                for _ in 0..<3 { sent.append(try await test(h, tenant, hook)) }
                let first = try await h.call(.get, "/v1/webhooks/\(hook.id)/deliveries?limit=2", token: tenant.adminToken)
                let cursor = try #require(first.string("next_cursor"))
                let second = try await h.call(.get, "/v1/webhooks/\(hook.id)/deliveries?limit=2&cursor=\(cursor)", token: tenant.adminToken)
                #expect((first.data + second.data).compactMap { $0["id"] as? String } == sent.reversed())
                #expect(second.json["next_cursor"] is NSNull)
            }
        }
    }
}

/// Endpoint addresses are checked when written when private addresses are not allowed (the
/// default outside a developer's machine and the tests).
@Suite struct WebhookAddressTests {
    @Test func privateLoopbackAndLinkLocalEndpointsAreRefused() async throws {
        // This server sends nothing: other tests' deliveries go to 127.0.0.1.
        try await AccountsHarness.run(environment: ["KEFU_WEBHOOK_ALLOW_PRIVATE": "0", "KEFU_WEBHOOK_DELIVERY": "0"]) { h in
            let tenant = try await h.createTenant()
            for url in ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://169.254.169.254/latest", "http://[::1]/", "http://10.0.0.7/"] {
                let refused = try await h.call(.post, "/v1/webhooks", token: tenant.adminToken, json: ["url": url, "event_types": ["department.changed"]])
                #expect(refused.status == .unprocessableContent, "\(url)")
                #expect(refused.fields == ["url"], "\(url)")
                #expect((refused.json["errors"] as? [[String: Any]])?.first?["code"] as? String == "address_not_allowed", "\(url)")
            }
            #expect(try await h.call(.get, "/v1/webhooks", token: tenant.adminToken).data.isEmpty)
            let public_ = try await h.call(.post, "/v1/webhooks", token: tenant.adminToken, json: [
                "url": "https://93.184.215.14/hook", "event_types": ["department.changed"],
            ])
            #expect(public_.status == .created)
            let moved = try await h.call(.patch, "/v1/webhooks/\(public_.string("id")!)", token: tenant.adminToken, json: ["url": "http://192.168.0.1/"])
            #expect(moved.fields == ["url"])
        }
    }
}

/// The guard runs again before every attempt: an endpoint written while private addresses were
/// allowed (or a name that now resolves to one) is not called.
@Suite struct WebhookSenderTests {
    @Test func anAttemptToAPrivateAddressIsRefusedAndNothingIsSent() async throws {
        try await withWebhookReceiver { base, receiver in
            var settings = WebhookDeliverySettings(environment: [:])
            settings.allowPrivateAddresses = false
            let sender = WebhookSender(settings: settings)
            let secret = WebhookSecret.generate()
            let body = #"{"type":"webhook.test","timestamp":"2026-01-01T00:00:00.000Z","data":{}}"#
            let outcome = await sender.send(
                url: base + "/private", body: body,
                headers: WebhookSignedHeaders(id: "msg_1", timestamp: 1, body: Data(body.utf8), secrets: [secret])
            )
            await sender.shutdown()
            #expect(!outcome.succeeded)
            #expect(outcome.statusCode == nil)
            #expect(outcome.error?.hasPrefix("refused: the URL points to a private") == true, "\(outcome.error ?? "")")
            #expect(await receiver.requests(to: "/private").isEmpty)
        }
    }

    @Test func retryAfterIsReadAsSecondsOrAnHTTPDate() {
        #expect(WebhookSender.retryAfterSeconds("120") == 120)
        #expect(WebhookSender.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0, "a date in the past: at once")
        #expect(WebhookSender.retryAfterSeconds("soon") == nil)
    }
}
