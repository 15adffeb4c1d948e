import Crypto
import CryptoExtras
import Foundation

/// WeChat's callback signatures and safe mode (安全模式), as its message encryption guide
/// specifies them:
/// - `signature` = SHA-1 hex of the token, timestamp and nonce, sorted and joined; in safe mode
///   `msg_signature` covers the `Encrypt` element too;
/// - the AES key is the 43-character EncodingAESKey base64-decoded (with its `=`), the IV its
///   first 16 bytes; plaintext = 16 random bytes + the message length (4 bytes, big-endian) +
///   the message + the app id, padded PKCS#7 to 32-byte blocks; AES-256-CBC; base64.
struct WeChatCrypto: Sendable {
    let token: String
    let appID: String
    /// The current key first, then the previous one while a rotation lasts.
    let keys: [SymmetricKey]

    enum Failure: Error, Equatable { case badSignature, badKey, badCiphertext, badPadding, badLength, wrongAppID }

    init(token: String, appID: String, encodingAESKeys: [String]) throws {
        self.token = token
        self.appID = appID
        self.keys = try encodingAESKeys.map { try Self.key($0) }
        guard !keys.isEmpty else { throw Failure.badKey }
    }

    static func key(_ encodingAESKey: String) throws -> SymmetricKey {
        guard encodingAESKey.count == 43, let bytes = Data(base64Encoded: encodingAESKey + "="), bytes.count == 32 else { throw Failure.badKey }
        return SymmetricKey(data: bytes)
    }

    static func sha1(_ parts: [String]) -> String {
        Insecure.SHA1.hash(data: Data(parts.sorted().joined().utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func signature(timestamp: String, nonce: String) -> String { Self.sha1([token, timestamp, nonce]) }

    func messageSignature(timestamp: String, nonce: String, encrypted: String) -> String {
        Self.sha1([token, timestamp, nonce, encrypted])
    }

    /// Constant-time comparison of hex signatures (a timing difference would let a forger
    /// learn a valid signature byte by byte).
    static func matches(_ given: String?, _ expected: String) -> Bool {
        guard let given else { return false }
        let a = Array(given.lowercased().utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The message inside an `Encrypt` element, and the key that opened it (the reply is sealed
    /// with the same one). Every key is tried in turn; any failure refuses the message.
    func decrypt(_ encrypted: String) throws -> (String, SymmetricKey) {
        guard let ciphertext = Data(base64Encoded: encrypted), !ciphertext.isEmpty, ciphertext.count % 32 == 0 else { throw Failure.badCiphertext }
        var failure = Failure.badCiphertext
        for key in keys {
            do { return (try open(ciphertext, with: key), key) } catch let error as Failure { failure = error }
        }
        throw failure
    }

    private func open(_ ciphertext: Data, with key: SymmetricKey) throws -> String {
        let iv = try AES._CBC.IV(ivBytes: key.withUnsafeBytes { Array($0.prefix(16)) })
        guard let padded = try? AES._CBC.decrypt(ciphertext, using: key, iv: iv, noPadding: true) else { throw Failure.badCiphertext }
        let bytes = [UInt8](padded)
        // PKCS#7 to 32-byte blocks: 1 to 32 bytes, each holding the count.
        guard let pad = bytes.last, (1...32).contains(Int(pad)), bytes.count >= 20 + Int(pad),
              bytes.suffix(Int(pad)).allSatisfy({ $0 == pad }) else { throw Failure.badPadding }
        let plain = bytes.dropLast(Int(pad)).dropFirst(16)
        let lengthBytes = plain.prefix(4)
        guard lengthBytes.count == 4 else { throw Failure.badLength }
        let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
        guard plain.count >= 4 + length else { throw Failure.badLength }
        let message = plain.dropFirst(4).prefix(length)
        let appID = plain.dropFirst(4 + length)
        guard String(decoding: appID, as: UTF8.self) == self.appID else { throw Failure.wrongAppID }
        guard let text = String(bytes: message, encoding: .utf8) else { throw Failure.badLength }
        return text
    }

    /// Seals a reply as WeChat expects it back.
    func encrypt(_ message: String, with key: SymmetricKey, random: [UInt8]? = nil) throws -> String {
        let body = Array(message.utf8)
        var plain = random ?? (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        plain += withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init)
        plain += body + Array(appID.utf8)
        let pad = 32 - plain.count % 32
        plain += [UInt8](repeating: UInt8(pad), count: pad)
        let iv = try AES._CBC.IV(ivBytes: key.withUnsafeBytes { Array($0.prefix(16)) })
        return try AES._CBC.encrypt(plain, using: key, iv: iv, noPadding: true).base64EncodedString()
    }
}
