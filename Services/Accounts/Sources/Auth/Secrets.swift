import Crypto
import Foundation
import KefuCore
import NIOCore

/// Secrets' stored form. Secrets are shown once; only their SHA-256 is kept
/// (they are long and random, so a slow hash adds nothing).
enum Secrets {
    /// SHA-256 as a `ByteBuffer`, which postgres-nio binds and reads as `bytea`.
    static func digest(_ secret: String) -> ByteBuffer {
        ByteBuffer(bytes: SHA256.hash(data: Data(secret.utf8)))
    }

    /// Compares a stored digest with the digest of a presented secret in constant time.
    static func matches(_ stored: ByteBuffer, _ secret: String) -> Bool {
        constantTimeEquals(stored.readableBytesView, digest(secret).readableBytesView)
    }

    /// A six-digit code, uniformly drawn.
    static func sixDigitCode() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%06d", Int.random(in: 0..<1_000_000, using: &generator))
    }
}
