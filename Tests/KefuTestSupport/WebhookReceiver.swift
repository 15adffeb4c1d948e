import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A real HTTP server standing in for a partner's webhook endpoint: the dispatcher POSTs to it
/// exactly as in production. It answers from a script (then 200) and keeps every request.
public actor WebhookReceiver {
    public struct Received: Sendable {
        public let path: String
        public let headers: HTTPFields
        public let body: Data

        public func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
    }

    /// How one request is answered.
    public struct Answer: Sendable {
        public var status: HTTPResponse.Status
        public var headers: [String: String]
        /// Held this long before answering (longer than the dispatcher's timeout: no answer).
        public var delay: Duration
        public var body: String

        public init(_ status: HTTPResponse.Status = .ok, headers: [String: String] = [:], delay: Duration = .zero, body: String = "") {
            self.status = status
            self.headers = headers
            self.delay = delay
            self.body = body
        }
    }

    /// Every request, in the order they arrived.
    public private(set) var received: [Received] = []
    private var script: [String: [Answer]] = [:]

    /// The next requests to `path` get these answers, in order; after them, 200.
    public func script(_ path: String, _ answers: [Answer]) { script[path] = answers }

    public func requests(to path: String) -> [Received] { received.filter { $0.path == path } }

    func answer(_ request: Received) -> Answer {
        received.append(request)
        guard var answers = script[request.path], !answers.isEmpty else { return Answer(.ok, body: "ok") }
        let next = answers.removeFirst()
        script[request.path] = answers
        return next
    }

    /// Waits (up to a minute: retries of the short test schedule come within seconds) until
    /// `path` has received `count` requests; returns them.
    public func waitFor(_ count: Int, at path: String) async throws -> [Received] {
        for _ in 0..<1200 {
            let found = requests(to: path)
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WebhookReceiverError.notReceived(path: path, expected: count, got: requests(to: path).count)
    }
}

public enum WebhookReceiverError: Error { case notReceived(path: String, expected: Int, got: Int), noPort }

/// Runs a receiver for the duration of `body`, passing its base URL (`http://127.0.0.1:port/<id>`).
///
/// Every receiver is a path prefix of one server that lives as long as the test process: any
/// test server's dispatcher may still be retrying an ended test's delivery, and a Hummingbird
/// server accepting a connection while it shuts down crashes the process (NIOAsyncWriter
/// deinited without finish). Requests to an ended receiver's prefix are answered 200.
public func withWebhookReceiver<T: Sendable>(_ body: @Sendable (String, WebhookReceiver) async throws -> T) async throws -> T {
    let receiver = WebhookReceiver()
    let prefix = UUID().uuidString.lowercased()
    let port = try await ReceiverServer.port.value
    ReceiverServer.receivers.withLock { $0[prefix] = receiver }
    defer { ReceiverServer.receivers.withLock { $0[prefix] = nil } }
    return try await body("http://127.0.0.1:\(port)/\(prefix)", receiver)
}

enum ReceiverServer {
    static let receivers = Mutex<[String: WebhookReceiver]>([:])

    /// Started on first use, never stopped.
    static let port = Task<Int, any Error> {
        let router = Router()
        router.post("**") { request, context -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let parts = request.uri.path.split(separator: "/", maxSplits: 1)
            guard let first = parts.first, let receiver = receivers.withLock({ $0[String(first)] }) else {
                return Response(status: .ok)
            }
            let path = "/" + (parts.count > 1 ? String(parts[1]) : "")
            let answer = await receiver.answer(.init(path: path, headers: request.headers, body: Data(buffer: buffer)))
            try await Task.sleep(for: answer.delay)
            var headers = HTTPFields()
            for (name, value) in answer.headers { headers[HTTPField.Name(name)!] = value }
            return Response(status: answer.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        Task.detached { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw WebhookReceiverError.noPort }
        return port
    }
}
