import Crypto
import Foundation

/// Standard Webhooks (standardwebhooks.com) signing, so partners verify Kefu's deliveries with
/// the library they already use (`Webhook(secret).verify(body, headers)`).
///
/// A secret is `whsec_` + base64 of 24–64 random bytes; the HMAC key is those bytes (the
/// base64-decoded part), not the text. The signed content is `id.timestamp.body`, exactly the
/// bytes sent.
public struct WebhookSecret: Sendable, Equatable {
    public static let prefix = "whsec_"

    /// The text shown once to the admin (`whsec_…`).
    public let text: String
    let key: SymmetricKey

    /// A new secret of `bytes` random bytes (32: as strong as the HMAC-SHA256 key it becomes).
    public static func generate(bytes: Int = 32) -> WebhookSecret {
        precondition((24...64).contains(bytes))
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: bytes * 8))
        let text = prefix + key.withUnsafeBytes { Data($0).base64EncodedString() }
        return WebhookSecret(text: text, key: key)
    }

    /// Reads a stored secret; nil when it is not `whsec_` + base64 of 24–64 bytes.
    public init?(_ text: String) {
        guard text.hasPrefix(Self.prefix), let bytes = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))),
              (24...64).contains(bytes.count) else { return nil }
        self.init(text: text, key: SymmetricKey(data: bytes))
    }

    private init(text: String, key: SymmetricKey) {
        self.text = text
        self.key = key
    }

    /// `v1,<base64 HMAC-SHA256 of id.timestamp.body>`.
    public func signature(id: String, timestamp: Int, body: some DataProtocol) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Data("\(id).\(timestamp).".utf8))
        mac.update(data: body)
        return "v1," + Data(mac.finalize()).base64EncodedString()
    }

    public static func == (lhs: WebhookSecret, rhs: WebhookSecret) -> Bool { lhs.text == rhs.text }
}

/// The three headers of one delivery attempt.
public struct WebhookSignedHeaders: Sendable, Equatable {
    public let id: String
    public let timestamp: Int
    /// Space-separated `v1,…` signatures: the current secret's first, then (during a rotation's
    /// grace period) the previous one's, so a receiver holding either secret verifies.
    public let signature: String

    /// Signs `body` for message `id` at `timestamp` (seconds since 1970; per attempt, since
    /// receivers refuse old timestamps) with every secret given, current first.
    public init(id: String, timestamp: Int, body: some DataProtocol, secrets: [WebhookSecret]) {
        precondition(!secrets.isEmpty)
        self.id = id
        self.timestamp = timestamp
        self.signature = secrets.map { $0.signature(id: id, timestamp: timestamp, body: body) }.joined(separator: " ")
    }

    public var asPairs: [(String, String)] {
        [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature)]
    }
}
