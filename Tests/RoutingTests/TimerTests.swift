import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Synchronization
import Testing

/// Durable timers (issue 11): guide-rule pushes and the conversation timeout survive a restart and
/// fire once, whichever replica is running.
@Suite struct TimerTests {
    func guideRule(_ h: RoutingHarness, _ tenant: RoutingHarness.Tenant, intervals: [Int]) async throws {
        let rule = try await h.reception.call(.post, "/v1/guide-rules", token: tenant.admin, json: [
            "name": "greet", "enabled": true, "conditions": ["join": "all", "conditions": [[String: Any]]()],
            "messages": intervals.enumerated().map { ["interval_seconds": $1, "content": ["type": "text", "text": "Push \($0 + 1)"]] },
        ])
        try #require(rule.status == .created, "\(rule.text)")
    }

    func pushes(_ conversation: String) async throws -> [String] {
        try await TestEnvironment.ownerQuery("""
            SELECT body->>'text' FROM routing.messages WHERE conversation_id = \(UUID(uuidString: conversation)!) AND sender = 'system' ORDER BY seq
            """, as: String.self)
    }

    @Test func guidePushesFireOnceEachInOrderAcrossTwoReplicas() async throws {
        try await RoutingHarness.run(replicas: 2) { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            try await guideRule(h, tenant, intervals: [1, 1])
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent], guideRules: true)
            let conversation = try await h.start(try await h.visitor(key)).id!
            let trace = try await h.routing.call(.get, "/v1/conversations/\(conversation)", token: tenant.admin).json["routing_trace"] as? [[String: Any]]
            #expect(trace?.contains { $0["step"] as? String == "guide_rule" } == true)
            #expect(try await h.eventually { try await pushes(conversation).count == 2 })
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await pushes(conversation) == ["Push 1", "Push 2"], "each once, in order")
            let automatic = try await h.routing.call(.get, "/v1/conversations/\(conversation)/messages", token: tenant.admin)
            #expect(automatic.data.allSatisfy { $0["automatic"] as? Bool == true })
        }
    }

    @Test func pushesAndTheTimeoutSurviveARestartAndFireOnce() async throws {
        let tenantBox = Box<(RoutingHarness.Tenant, String, String)>()
        // First life: the conversation starts; its pushes are due after this replica is gone.
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            try await guideRule(h, tenant, intervals: [3, 1])
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent], guideRules: true)
            try await h.online(agent)
            let visitor = try await h.visitor(key)
            let conversation = try await h.start(visitor).id!
            #expect(try await pushes(conversation).isEmpty)
            tenantBox.value = (tenant, conversation, agent.id.description)
        }
        let (tenant, conversation, agent) = tenantBox.value!
        let id = UUID(uuidString: conversation)!
        // Second life: another replica fires them, once each.
        try await RoutingHarness.run { h in
            #expect(try await h.eventually { try await pushes(conversation).count == 2 })
            // The timeout (30 minutes) is made due now: it ends the conversation, once.
            _ = try await TestEnvironment.ownerQuery("""
                UPDATE routing.timers SET due_at = now() WHERE conversation_id = \(id) AND kind = 'conversation_timeout' RETURNING 1
                """, as: Int.self)
            #expect(try await h.eventually {
                try await TestEnvironment.ownerQuery("SELECT status FROM routing.conversations WHERE id = \(id)", as: String.self) == ["ended"]
            })
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await pushes(conversation) == ["Push 1", "Push 2"])
            let ended = try await TestEnvironment.ownerQuery("""
                SELECT payload->>'reason' FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = 'conversation.ended'
                """, as: String.self)
            #expect(ended == ["timeout"])
            #expect(try await TestEnvironment.ownerQuery("SELECT count(*)::int FROM routing.timers WHERE conversation_id = \(id)", as: Int.self) == [0])
            let seats = try await TestEnvironment.ownerQuery(
                "SELECT open_count FROM routing.agents WHERE employee_id = \(UUID(uuidString: agent)!)", as: Int.self
            )
            #expect(seats == [0], "the timeout gave the seat back")
        }
    }

    @Test func aQueuedVisitorPastTheMaximumWaitIsAskedToLeaveAMessage() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            let visitor = try await h.visitor(key)
            let conversation = try await h.start(visitor)
            #expect(conversation.string("status") == "queued")
            let id = UUID(uuidString: conversation.id!)!
            _ = try await TestEnvironment.ownerQuery("""
                UPDATE routing.timers SET due_at = now() WHERE conversation_id = \(id) AND kind = 'queue_wait' RETURNING 1
                """, as: Int.self)
            #expect(try await h.eventually {
                try await h.routing.call(.get, "/v1/visitor/conversations/\(id)", token: visitor.token).string("status") == "awaiting_message"
            })
            let messages = try await h.routing.call(.get, "/v1/visitor/conversations/\(id)/messages", token: visitor.token)
            #expect(messages.data.count == 1)
            #expect(messages.data.first?["sender"] as? String == "system")
            // An agent coming online does not take it: it has left the queue.
            try await h.online(agent)
            #expect(try await h.routing.call(.get, "/v1/visitor/conversations/\(id)", token: visitor.token).string("status") == "awaiting_message")
        }
    }
}

/// A value handed from one test phase to the next.
final class Box<T: Sendable>: Sendable {
    private let stored = Mutex<T?>(nil)
    var value: T? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
