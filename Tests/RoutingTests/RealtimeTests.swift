import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSClient
import KefuCore
import KefuModels
import KefuTestSupport
import PostgresNIO
import Synchronization
import Testing

/// The realtime sockets over real connections: two live replicas, a WebSocket client. Serialized:
/// one test cuts every replica's LISTEN connection.
@Suite(.serialized) struct RealtimeTests {
    /// One agent, one visitor with an open conversation held by the agent.
    struct Scene: Sendable {
        let tenant: RoutingHarness.Tenant
        let agent: RoutingHarness.Agent
        let visitor: RoutingHarness.Visitor
        let conversation: String
        let key: String
    }

    static func scene(_ h: RoutingHarness) async throws -> Scene {
        let tenant = try await h.tenant()
        let agent = try await h.agent(in: tenant)
        let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
        try await h.online(agent)
        let visitor = try await h.visitor(key)
        let started = try await h.start(visitor)
        try #require(started.string("status") == "open")
        return Scene(tenant: tenant, agent: agent, visitor: visitor, conversation: started.id!, key: key)
    }

    @Test func twoHundredMessagesThroughOneReplicaReachASocketOnTheOtherOnceEachInOrder() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            try await h.socket(on: 1, agent: s.agent.token) { agent in
                let start = try await agent.resume([:])[s.conversation] ?? -1
                try #require(start >= 0, "the held conversation is followed")
                for i in 1...200 {
                    let sent = try await h.replicas[0].call(.post, "/v1/visitor/conversations/\(s.conversation)/messages", token: s.visitor.token, json: [
                        "client_message_id": "m-\(i)", "body": ["type": "text", "text": "message \(i)"],
                    ])
                    try #require(sent.status == .created, "\(sent.text)")
                }
                #expect(try await agent.waitFor { $0.messages(in: s.conversation).count >= 200 })
                try await Task.sleep(for: .milliseconds(300))
                let messages = agent.frames.messages(in: s.conversation)
                #expect(messages.map { $0["seq"] as? Int } == Array(1...200).map { start + $0 })
                #expect(messages.map { ($0["body"] as? [String: Any])?["text"] as? String } == (1...200).map { "message \($0)" })
            }
        }
    }

    @Test func aClientOfflineWhileMessagesAndAnEndHappenResumesToExactlyTheServersState() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            let before = try await h.socket(on: 1, agent: s.agent.token) { agent in try await agent.resume([:])[s.conversation] }
            let last = try #require(before)
            // Offline: the visitor writes, the agent answers and ends, all through the other replica.
            for i in 1...5 {
                let sent = try await h.replicas[0].call(.post, "/v1/visitor/conversations/\(s.conversation)/messages", token: s.visitor.token, json: [
                    "client_message_id": "v-\(i)", "body": ["type": "text", "text": "while away \(i)"],
                ])
                #expect(sent.status == .created)
            }
            #expect(try await h.replicas[0].call(.post, "/v1/conversations/\(s.conversation)/end", token: s.agent.token).status == .ok)
            let server = try await h.replicas[0].call(.get, "/v1/conversations/\(s.conversation)/messages?after_seq=\(last)", token: s.agent.token)
            // The visitor's five, and the satisfaction survey the agent's end sent.
            #expect(server.data.count == 6)

            // This time the cursors come with the connect.
            try await h.socket(on: 1, path: "/v1/socket?access_token=\(s.agent.token)&cursors=\(s.conversation):\(last)") { agent in
                #expect(try await agent.waitFor { $0.contains { $0["type"] as? String == "resumed" } })
                let resumed = agent.frames.first { $0["type"] as? String == "resumed" }?["conversations"] as? [String: Int]
                #expect(resumed?[s.conversation] == last + 6)
                try await Task.sleep(for: .milliseconds(300))
                let frames = agent.frames
                #expect(frames.messages(in: s.conversation).map { $0["id"] as? String } == server.data.map { $0["id"] as? String })
                let state = frames.first { $0["type"] as? String == "conversation.state" }
                #expect((state?["conversation"] as? [String: Any])?["status"] as? String == "ended")
                // Messages first, then the state they led to.
                let types = frames.compactMap { $0["type"] as? String }.filter { $0 != "ready" }
                #expect(types == Array(repeating: "message.created", count: 6) + ["conversation.state", "resumed"])
            }
        }
    }

    @Test func typingReachesTheOtherSideAndIsNotStored() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            try await h.socket(on: 1, agent: s.agent.token) { agent in
                _ = try await agent.resume([:])
                try await h.socket(on: 0, visitor: s.visitor.token) { visitor in
                    _ = try await visitor.resume([:])
                    try await visitor.send(["type": "typing", "conversation_id": s.conversation])
                    #expect(try await agent.waitFor { $0.contains { $0["type"] as? String == "typing" } })
                    let typing = agent.frames.first { $0["type"] as? String == "typing" }
                    #expect(typing?["conversation_id"] as? String == s.conversation)
                    #expect(typing?["from"] as? String == "visitor")
                    try await agent.send(["type": "typing", "conversation_id": s.conversation])
                    #expect(try await visitor.waitFor { $0.contains { $0["type"] as? String == "typing" } })
                    #expect(visitor.frames.filter { $0["type"] as? String == "typing" }.map { $0["from"] as? String } == ["agent"])
                }
            }
            let stored = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM routing.messages WHERE conversation_id = \(UUID(uuidString: s.conversation)!)", as: Int.self
            )
            #expect(stored == [0])
        }
    }

    @Test func aVisitorsSocketGetsNothingOfAnotherVisitorAndBadTokensAreRefused() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            let other = try await h.visitor(s.key)
            let theirs = try await h.start(other).id!
            try await h.socket(on: 1, visitor: s.visitor.token) { mine in
                let followed = try await mine.resume([:])
                #expect(Array(followed.keys) == [s.conversation])
                _ = try await h.replicas[0].call(.post, "/v1/visitor/conversations/\(theirs)/messages", token: other.token, json: [
                    "client_message_id": "o-1", "body": ["type": "text", "text": "not yours"],
                ])
                // Asking for it by id is a 404, like the HTTP routes.
                try await mine.send(["type": "resume", "cursors": [theirs: 0]])
                #expect(try await mine.waitFor { $0.contains { $0["type"] as? String == "error" } })
                #expect(mine.frames.first { $0["type"] as? String == "error" }?["code"] as? String == "not_found")
                try await Task.sleep(for: .milliseconds(300))
                #expect(!mine.text.contains(theirs), "nothing of the other visitor's conversation")
            }
            // Refused before the upgrade: the handshake fails, and a plain GET says why.
            await #expect(throws: (any Error).self) {
                try await h.socket(on: 0, visitor: s.visitor.token + "x") { _ in }
            }
            await #expect(throws: (any Error).self) {
                try await h.socket(on: 0, agent: s.visitor.token) { _ in }
            }
            #expect(try await h.replicas[0].call(.get, "/v1/visitor/socket?visitor_token=\(s.visitor.token)x").status == .unauthorized)
            #expect(try await h.replicas[0].call(.get, "/v1/socket").status == .unauthorized)
            #expect(try await h.replicas[0].call(.get, "/v1/socket?access_token=\(s.agent.token)").status == .upgradeRequired)
        }
    }

    @Test func theSameClientMessageIDTwiceIsPushedOnce() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            try await h.socket(on: 1, agent: s.agent.token) { agent in
                _ = try await agent.resume([:])
                for (replica, id) in [(0, "dup"), (1, "dup"), (0, "after")] {
                    _ = try await h.replicas[replica].call(.post, "/v1/visitor/conversations/\(s.conversation)/messages", token: s.visitor.token, json: [
                        "client_message_id": id, "body": ["type": "text", "text": id],
                    ])
                }
                #expect(try await agent.waitFor { $0.messages(in: s.conversation).count >= 2 })
                try await Task.sleep(for: .milliseconds(300))
                #expect(agent.frames.messages(in: s.conversation).map { $0["client_message_id"] as? String } == ["dup", "after"])
            }
        }
    }

    /// A message's notice carries its frame (RealtimeNotice): a socket sends it only when it is the
    /// socket's next seq. A notice that overtook an earlier one (here a hand-made one for two ahead,
    /// whose frame says "forged") is never sent: the socket reads the record instead.
    @Test func aNoticeAheadOfTheSocketIsNotSentAndTheRecordIsReadInstead() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            let config = try await TestEnvironment.config(for: .routing)
            let events = try await PostgresConnection.connect(
                configuration: try DatabaseURL(config.eventsDatabaseURL).connectionConfiguration(applicationName: "kefu-test"),
                id: 3, logger: TestEnvironment.logger
            )
            defer { Task { try? await events.close() } }
            try await h.socket(on: 1, agent: s.agent.token) { agent in
                let start = try #require(try await agent.resume([:])[s.conversation])
                let forged = #"{"type":"message.created","conversation_id":"\#(s.conversation)","message":{"id":"\#(UUID().uuidString.lowercased())","conversation_id":"\#(s.conversation)","seq":\#(start + 2),"sender":"visitor","body":{"type":"text","text":"forged"},"automatic":false,"created_at":"2026-01-01T00:00:00Z"}}"#
                _ = try await events.query(
                    "SELECT pg_notify('kefu_routing', \("\(s.tenant.id):m:\(s.conversation):\(start + 2):\(forged)"))", logger: TestEnvironment.logger
                ).collect()
                for i in 1...2 {
                    let sent = try await h.replicas[0].call(.post, "/v1/visitor/conversations/\(s.conversation)/messages", token: s.visitor.token, json: [
                        "client_message_id": "real-\(i)", "body": ["type": "text", "text": "real \(i)"],
                    ])
                    try #require(sent.status == .created, "\(sent.text)")
                }
                #expect(try await agent.waitFor { $0.messages(in: s.conversation).count >= 2 })
                try await Task.sleep(for: .milliseconds(300))
                let messages = agent.frames.messages(in: s.conversation)
                #expect(messages.map { $0["seq"] as? Int } == [start + 1, start + 2])
                #expect(messages.map { ($0["body"] as? [String: Any])?["text"] as? String } == ["real 1", "real 2"])
            }
        }
    }

    /// 4,950 Chinese characters (14,850 bytes) do not fit in a notice: the socket reads the message.
    @Test func aMessageTooLongForItsNoticeReachesTheSocketFromTheRecord() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            let long = String(repeating: "您好请问我的订单在哪里", count: 450)
            try await h.socket(on: 1, agent: s.agent.token) { agent in
                let start = try #require(try await agent.resume([:])[s.conversation])
                for (id, text) in [("long", long), ("short", "谢谢")] {
                    let sent = try await h.replicas[0].call(.post, "/v1/visitor/conversations/\(s.conversation)/messages", token: s.visitor.token, json: [
                        "client_message_id": id, "body": ["type": "text", "text": text],
                    ])
                    try #require(sent.status == .created, "\(sent.text)")
                }
                #expect(try await agent.waitFor { $0.messages(in: s.conversation).count >= 2 })
                let messages = agent.frames.messages(in: s.conversation)
                #expect(messages.map { $0["seq"] as? Int } == [start + 1, start + 2])
                #expect(messages.map { ($0["body"] as? [String: Any])?["text"] as? String } == [long, "谢谢"])
            }
        }
    }

    @Test func aLostListenConnectionResyncsEverySocketFromItsSeq() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            // As the listeners' own role: the serving role may not end another role's session.
            let config = try await TestEnvironment.config(for: .routing)
            let events = try await PostgresConnection.connect(
                configuration: try DatabaseURL(config.eventsDatabaseURL).connectionConfiguration(applicationName: "kefu-test"),
                id: 2, logger: TestEnvironment.logger
            )
            defer { Task { try? await events.close() } }
            @Sendable func listeners() async throws -> [Int32] {
                try await events.query(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'kefu-listen:routing-realtime'", logger: TestEnvironment.logger
                ).decode(Int32.self).reduce(into: []) { $0.append($1) }
            }
            try await h.socket(on: 1, agent: s.agent.token) { agent in
                let start = try #require(try await agent.resume([:])[s.conversation])
                let before = try await listeners()
                try #require(before.count >= 2, "both replicas listen")
                _ = try await events.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kefu-listen:routing-realtime'",
                    logger: TestEnvironment.logger
                ).collect()
                // Sent while the replicas may not be listening: their NOTIFYs can reach nobody.
                for i in 1...3 {
                    _ = try await h.replicas[0].call(.post, "/v1/visitor/conversations/\(s.conversation)/messages", token: s.visitor.token, json: [
                        "client_message_id": "gap-\(i)", "body": ["type": "text", "text": "during the cut \(i)"],
                    ])
                }
                #expect(try await agent.waitFor { $0.messages(in: s.conversation).count >= 3 })
                let reconnected = try await h.eventually {
                    let now = try await listeners()
                    return now.count >= 2 && Set(now).isDisjoint(with: before)
                }
                #expect(reconnected, "new listen connections replaced the killed ones")
                _ = try await h.replicas[0].call(.post, "/v1/visitor/conversations/\(s.conversation)/messages", token: s.visitor.token, json: [
                    "client_message_id": "after", "body": ["type": "text", "text": "heard again"],
                ])
                #expect(try await agent.waitFor { $0.messages(in: s.conversation).count >= 4 })
                try await Task.sleep(for: .milliseconds(300))
                #expect(agent.frames.messages(in: s.conversation).map { $0["seq"] as? Int } == (1...4).map { start + $0 })
            }
        }
    }

    @Test func positionsBehindAConversationThatLeavesTheQueueArePushed() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent], limit: 1)
            try await h.online(agent)
            let first = try await h.start(try await h.visitor(key))
            #expect(first.string("status") == "open")
            #expect(try await h.start(try await h.visitor(key)).queuePosition == 1)
            let third = try await h.visitor(key)
            let waiting = try await h.start(third)
            #expect(waiting.queuePosition == 2)
            try await h.socket(on: 1, visitor: third.token) { visitor in
                let followed = try await visitor.resume([:])
                #expect(followed.keys.contains(waiting.id!))
                // The seat frees on the other replica: the second is assigned, the third moves up.
                let ended = try await h.replicas[0].call(.post, "/v1/conversations/\(first.id!)/end", token: agent.token)
                #expect(ended.status == .ok)
                let movedUp = try await visitor.waitFor { frames in
                    frames.contains { frame in
                        let queue = (frame["conversation"] as? [String: Any])?["queue"] as? [String: Any]
                        return frame["type"] as? String == "conversation.queued" && queue?["position"] as? Int == 1
                    }
                }
                #expect(movedUp, "the third visitor's socket hears it is next")
            }
        }
    }

    @Test func revokedCredentialsCloseAnOpenSocket() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            try await h.socket(on: 1, agent: s.agent.token) { agent in
                _ = try await agent.resume([:])
                #expect(!agent.closed.withLock { $0 })
                try await h.database.withTenant(s.tenant.id) { tx in
                    try await tx.publish(EmployeeCredentialsRevoked(employeeId: s.agent.id, reason: "disabled", revokedAt: Date()))
                }
                let closed = try await h.eventually { agent.closed.withLock { $0 } }
                #expect(closed, "the socket of a revoked employee is closed")
            }
        }
    }

    @Test func aSupervisorWatchesAConversationTheyDoNotHold() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let s = try await Self.scene(h)
            try await h.socket(on: 1, agent: s.tenant.admin) { supervisor in
                _ = try await supervisor.resume([:])
                try await supervisor.send(["type": "watch", "conversation_id": s.conversation])
                #expect(try await supervisor.waitFor { $0.contains { $0["type"] as? String == "conversation.state" } })
                _ = try await h.replicas[0].call(.post, "/v1/visitor/conversations/\(s.conversation)/messages", token: s.visitor.token, json: [
                    "client_message_id": "w-1", "body": ["type": "text", "text": "watched"],
                ])
                #expect(try await supervisor.waitFor { $0.messages(in: s.conversation).count == 1 })
            }
        }
    }
}

// MARK: A test's end of a socket

/// Frames as they arrive, and a way to send.
final class SocketProbe: Sendable {
    let received = Mutex<[String]>([])
    /// Set once the server closed the socket (or the connection ended).
    let closed = Mutex(false)
    let outbound: WebSocketOutboundWriter

    init(outbound: WebSocketOutboundWriter) { self.outbound = outbound }

    var frames: [[String: Any]] {
        received.withLock { $0 }.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    var text: String { received.withLock { $0.joined(separator: "\n") } }

    func send(_ json: [String: Any]) async throws {
        try await outbound.writeTextMessage(String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self))
    }

    /// Sends `resume` and waits for `resumed`; returns where each followed conversation stands.
    func resume(_ cursors: [String: Int]) async throws -> [String: Int] {
        let count = frames.filter { $0["type"] as? String == "resumed" }.count
        try await send(["type": "resume", "cursors": cursors])
        try #require(try await waitFor { $0.filter { $0["type"] as? String == "resumed" }.count > count }, "no resumed frame")
        return frames.last { $0["type"] as? String == "resumed" }?["conversations"] as? [String: Int] ?? [:]
    }

    func waitFor(_ condition: ([[String: Any]]) -> Bool) async throws -> Bool {
        for _ in 0..<400 {
            if condition(frames) { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }
}

extension [[String: Any]] {
    /// The messages pushed for `conversation`, in arrival order.
    func messages(in conversation: String) -> [[String: Any]] {
        filter { $0["type"] as? String == "message.created" && $0["conversation_id"] as? String == conversation }
            .compactMap { $0["message"] as? [String: Any] }
    }
}

extension RoutingHarness {
    func socket<T: Sendable>(on replica: Int, agent token: String, _ body: @escaping @Sendable (SocketProbe) async throws -> T) async throws -> T {
        try await socket(on: replica, path: "/v1/socket?access_token=\(token)", body)
    }

    func socket<T: Sendable>(on replica: Int, visitor token: String, _ body: @escaping @Sendable (SocketProbe) async throws -> T) async throws -> T {
        try await socket(on: replica, path: "/v1/visitor/socket?visitor_token=\(token)", body)
    }

    /// Runs `body` with an open socket to `replica`, then closes it.
    func socket<T: Sendable>(on replica: Int, path: String, _ body: @escaping @Sendable (SocketProbe) async throws -> T) async throws -> T {
        let port = try #require(replicas[replica].port, "sockets need the harness run live")
        // The body runs inside the client's handler; what it returns or throws is carried out.
        let value = Mutex<T?>(nil)
        let failure = Mutex<String?>(nil)
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)\(path)", logger: TestEnvironment.logger) { inbound, outbound, _ in
            let probe = SocketProbe(outbound: outbound)
            let reader = Task {
                defer { probe.closed.withLock { $0 = true } }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { probe.received.withLock { $0.append(text) } }
                }
            }
            do {
                let result = try await body(probe)
                value.withLock { $0 = result }
            } catch {
                let description = String(describing: error)
                failure.withLock { $0 = description }
            }
            reader.cancel()
        }
        if let failure = failure.withLock({ $0 }) { throw SocketFailure(description: failure) }
        guard let result = value.withLock({ $0 }) else { throw SocketFailure(description: "the socket did not open") }
        return result
    }
}

struct SocketFailure: Error, CustomStringConvertible {
    let description: String
}
