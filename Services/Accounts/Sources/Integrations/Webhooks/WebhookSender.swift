import AsyncHTTPClient
import Foundation
import KefuCore
import NIOCore

/// What one attempt came to, as the delivery log records it.
struct AttemptOutcome: Sendable {
    var statusCode: Int?
    var latencyMs: Int
    var error: String?
    var responseExcerpt: String?
    /// The receiver's `Retry-After`, in seconds from now.
    var retryAfter: TimeInterval?

    /// Only a 2xx counts: a 3xx is never followed (the receiver moved: the admin must say where).
    var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }
    /// 410 Gone: the receiver asks never to be called again.
    var gone: Bool { statusCode == 410 }
}

/// POSTs signed deliveries. Its own HTTP client never follows redirects (a redirect to an
/// internal address would pass the address guard) and bounds every attempt by the timeout.
struct WebhookSender: Sendable {
    let client: HTTPClient
    let settings: WebhookDeliverySettings
    let addressGuard: OutboundAddressGuard

    init(settings: WebhookDeliverySettings) {
        self.settings = settings
        self.addressGuard = OutboundAddressGuard(allowPrivate: settings.allowPrivateAddresses)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
        // The dispatcher bounds attempts per endpoint; the pool's bound is per host, and many
        // endpoints (of many tenants) share one host. At the endpoint's bound, a hanging endpoint
        // held every connection to its host and the others' attempts failed with
        // getConnectionFromPoolTimeout.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = WebhookDispatcher.maximumInFlight
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    func send(url: String, body: String, headers: WebhookSignedHeaders) async -> AttemptOutcome {
        let started = ContinuousClock.now
        func elapsed() -> Int {
            let d = ContinuousClock.now - started
            return Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
        }
        // Checked at every attempt, not only when the URL was written: a name can change its answer.
        do {
            try await addressGuard.check(url)
        } catch {
            return AttemptOutcome(statusCode: nil, latencyMs: elapsed(), error: "refused: the URL \(error)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Kefu-Webhooks/1.0")
        for (name, value) in headers.asPairs { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let timeout = settings.timeout
        let limit = settings.responseExcerptBytes
        let client = self.client
        let prepared = request
        do {
            // The whole answer, body included, within the timeout: a receiver trickling its
            // body must not hold a slot for ever.
            let (status, retryAfter, excerpt) = try await withTimeout(.milliseconds(Int(timeout * 1000))) {
                // The client's own deadline a little later, so that ours decides (and its message).
                let response = try await client.execute(prepared, timeout: .milliseconds(Int64(timeout * 1000) + 1000))
                var excerpt = ByteBuffer()
                for try await var chunk in response.body {
                    excerpt.writeBuffer(&chunk)
                    if excerpt.readableBytes >= limit { break }
                }
                return (Int(response.status.code), response.headers.first(name: "Retry-After"), excerpt)
            }
            let bytes = excerpt.readableBytesView.prefix(limit)
            // Postgres text holds no U+0000.
            let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\u{0}", with: "")
            return AttemptOutcome(
                statusCode: status, latencyMs: elapsed(), error: nil, responseExcerpt: text.isEmpty ? nil : text,
                retryAfter: retryAfter.flatMap(Self.retryAfterSeconds)
            )
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return AttemptOutcome(statusCode: nil, latencyMs: elapsed(), error: "no answer within \(Self.format(timeout)) s")
        } catch is TimeoutError {
            return AttemptOutcome(statusCode: nil, latencyMs: elapsed(), error: "no answer within \(Self.format(timeout)) s")
        } catch {
            return AttemptOutcome(statusCode: nil, latencyMs: elapsed(), error: String(String(describing: error).prefix(300)))
        }
    }

    /// `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3).
    static func retryAfterSeconds(_ value: String) -> TimeInterval? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(date.timeIntervalSinceNow, 0)
    }

    static func format(_ seconds: TimeInterval) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
