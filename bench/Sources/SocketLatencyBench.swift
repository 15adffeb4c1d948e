// kefu-bench routing, second part: how long a visitor's message takes from its POST to the agent's
// socket, through two replicas, at a fixed rate (open loop: a slow answer never slows the sender).
import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import KefuCore
import KefuModels
import Logging
import NIOCore
import Synchronization

/// One open conversation the latency run posts into: the visitor who writes, the agent who reads.
struct HeldConversation: Sendable {
    let id: UUID
    let visitorToken: String
    let agentToken: String
}

struct LatencyFigures {
    let sent: Int
    let received: Int
    let p50Milliseconds: Double
    let p99Milliseconds: Double
}

/// Each agent's socket on `socketURL` (the second replica); visitor messages POSTed to `postURL`
/// (the first) at `rate` per second for `seconds`, round-robin over `conversations`. A message's
/// latency runs from just before its POST to the moment its `message.created` frame arrives.
func socketLatency(
    postURL: String, socketURL: String, conversations: [HeldConversation], rate: Int, seconds: Double, logger: Logger
) async throws -> LatencyFigures {
    let log = LatencyLog()
    let agentTokens = Array(Set(conversations.map(\.agentToken)))
    let total = Int(Double(rate) * seconds)
    let wsBase = socketURL.replacingOccurrences(of: "http://", with: "ws://")

    return try await withThrowingTaskGroup(of: Void.self) { sockets in
        for token in agentTokens {
            sockets.addTask {
                try await WebSocketClient.connect(url: "\(wsBase)/v1/socket?access_token=\(token)&cursors=", logger: logger) { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message else { continue }
                        let arrived = ContinuousClock.now
                        guard let frame = try? KefuJSON.decoder().decode(Frame.self, from: Data(text.utf8)) else { continue }
                        if frame.type == "resumed" { log.ready.withLock { $0 += 1 } }
                        guard frame.type == "message.created", let client = frame.message?.clientMessageId,
                              let start = log.started.withLock({ $0[client] }) else { continue }
                        log.latencies.withLock { $0.append(arrived - start) }
                    }
                }
            }
        }
        defer { sockets.cancelAll() }
        while log.ready.withLock({ $0 }) < agentTokens.count { try await Task.sleep(for: .milliseconds(20)) }

        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(60))))
        let interval = Duration.seconds(1) / rate
        let begin = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { posts in
            for index in 0..<total {
                try await Task.sleep(until: begin + interval * index, clock: .continuous)
                let conversation = conversations[index % conversations.count]
                let clientID = "latency-\(index)"
                posts.addTask {
                    var request = HTTPClientRequest(url: "\(postURL)/v1/visitor/conversations/\(conversation.id.uuidString.lowercased())/messages")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(conversation.visitorToken)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: #"{"client_message_id":"\#(clientID)","body":{"type":"text","text":"Where is my order?"}}"#))
                    log.started.withLock { $0[clientID] = ContinuousClock.now }
                    let response = try await client.execute(request, timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 16)
                    guard response.status == .created else { throw BenchError("message POST answered \(response.status.code)") }
                }
            }
            try await posts.waitForAll()
        }
        try await client.shutdown()
        // Every frame, or give up after 10 s: the figures then say how many arrived.
        let deadline = ContinuousClock.now + .seconds(10)
        while log.latencies.withLock({ $0.count }) < total, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }

        let sorted = log.latencies.withLock { $0 }.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return LatencyFigures(sent: total, received: sorted.count, p50Milliseconds: percentile(0.5), p99Milliseconds: percentile(0.99))
    }
}

/// What the sender and the sockets share.
private final class LatencyLog: Sendable {
    /// When each message's POST began, by its client message id.
    let started = Mutex<[String: ContinuousClock.Instant]>([:])
    let latencies = Mutex<[Duration]>([])
    /// Sockets resumed (following their agent's conversations).
    let ready = Mutex(0)
}

private struct Frame: Decodable {
    let type: String
    let message: Message?
    struct Message: Decodable { let clientMessageId: String? }
}
