import Foundation
import Hummingbird
import Logging
import NIOCore

/// A real HTTP server standing in for a tenant's SMS gateway: accounts POSTs one-time codes to
/// it exactly as it would in production, and tests read them from its inbox.
public actor SMSInbox {
    public struct Message: Sendable, Decodable {
        public let tenantId: String
        public let phone: String
        public let message: String
    }

    public private(set) var messages: [Message] = []
    /// How the gateway answers: after `delay`, with `status` (a message is kept only on a 2xx).
    private var answer: (delay: Duration, status: HTTPResponse.Status) = (.zero, .noContent)

    func receive(_ message: Message) { messages.append(message) }

    /// Makes the gateway slow or failing, as a real one sometimes is.
    public func answer(after delay: Duration = .zero, with status: HTTPResponse.Status = .noContent) {
        answer = (delay, status)
    }

    /// The messages sent to `phone` so far.
    public func messages(to phone: String) -> [Message] { messages.filter { $0.phone == phone } }

    func handle(_ message: Message) async throws -> HTTPResponse.Status {
        let (delay, status) = answer
        try await Task.sleep(for: delay)
        if (200..<300).contains(status.code) { receive(message) }
        return status
    }

    /// The six-digit code of the newest message to `phone`, waiting briefly for it to arrive —
    /// for a message after the first `earlier` ones to that phone, when given (codes sent after
    /// the answer arrive a moment later).
    public func code(for phone: String, after earlier: Int = 0) async throws -> String {
        for _ in 0..<500 {
            if messages(to: phone).count > earlier, let message = messages.last(where: { $0.phone == phone }),
               let range = message.message.range(of: #"\b[0-9]{6}\b"#, options: .regularExpression) {
                return String(message.message[range])
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SMSGatewayError.noMessage(phone)
    }
}

enum SMSGatewayError: Error { case noMessage(String), noPort }

/// Runs the gateway for the duration of `body`, passing its URL and inbox.
public func withSMSGateway<T: Sendable>(_ body: @Sendable (String, SMSInbox) async throws -> T) async throws -> T {
    let inbox = SMSInbox()
    let router = Router()
    router.post("/sms") { request, context -> HTTPResponse.Status in
        let buffer = try await request.body.collect(upTo: 1 << 16)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try await inbox.handle(try decoder.decode(SMSInbox.Message.self, from: Data(buffer: buffer)))
    }
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "sms-gateway")
    logger.logLevel = .error
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
        logger: logger
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw SMSGatewayError.noPort }
        return try await body("http://127.0.0.1:\(port)/sms", inbox)
    }
}
