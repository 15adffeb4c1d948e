import AsyncHTTPClient
import Foundation
import Hummingbird
import KefuCore
import Logging
import NIOCore
import Synchronization

// The webhook delivery bench's two ends (scripts/bench-webhooks.sh): the receiver both are
// measured against, and the baseline — the same POSTs, signed the same way, from a bare HTTP
// client with the same concurrency as the dispatcher's per-endpoint limit.

/// Answers every POST 204 at once, until killed.
func webhookReceiver(port: Int) async throws {
    let router = Router()
    router.post("**") { request, _ -> HTTPResponse.Status in
        _ = try await request.body.collect(upTo: 1 << 20)
        return .noContent
    }
    var logger = Logger(label: "bench-receiver")
    logger.logLevel = .error
    try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger).run()
}

/// `count` signed POSTs of a delivery-sized body, `concurrency` at a time, on one client as the
/// dispatcher's (no redirects, its connection limit). Prints `webhook_posts_per_second=`.
func webhookPosts(url: String, count: Int, concurrency: Int) async throws {
    var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let secret = WebhookSecret.generate()
    let body = #"{"type":"department.changed","timestamp":"2026-01-01T00:00:00.000Z","data":{"department_id":"00000000-0000-0000-0000-000000000000","exists":true}}"#
    let next = PostCounter()
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                while true {
                    let index = next.value.wrappingAdd(1, ordering: .relaxed).newValue
                    if index > count { return }
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    let signed = WebhookSignedHeaders(
                        id: UUID().uuidString.lowercased(), timestamp: Int(Date().timeIntervalSince1970), body: Data(body.utf8), secrets: [secret]
                    )
                    for (name, value) in signed.asPairs { request.headers.add(name: name, value: value) }
                    request.body = .bytes(ByteBuffer(string: body))
                    let response = try await client.execute(request, timeout: .seconds(15))
                    for try await _ in response.body {}
                    guard (200..<300).contains(response.status.code) else { throw WebhookBenchError.refused(Int(response.status.code)) }
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    try await client.shutdown()
    print("webhook_posts_per_second=\(String(format: "%.1f", Double(count) / seconds))")
}

enum WebhookBenchError: Error { case refused(Int) }

final class PostCounter: Sendable {
    let value = Atomic<Int>(0)
}
