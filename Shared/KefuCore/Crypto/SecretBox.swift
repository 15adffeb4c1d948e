import Crypto
import Foundation

/// Encrypts secrets kept at rest that must be read back (webhook signing secrets now, channel
/// credentials next): AES-256-GCM under a key from configuration, never the database's.
/// Sealed values read `v1.<key id>.<base64 nonce+ciphertext+tag>`, so keys can rotate: sealing
/// uses the first key, opening finds the key by id.
public struct SecretBox: Sendable {
    struct Key: Sendable {
        let id: String
        let key: SymmetricKey
    }

    let keys: [Key]

    /// `base64Keys`: 32-byte keys, base64, newest first.
    public init(base64Keys: [String]) throws {
        keys = try base64Keys.map { encoded in
            guard let data = Data(base64Encoded: encoded.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                throw SecretBoxError.badKey
            }
            let key = SymmetricKey(data: data)
            let id = SHA256.hash(data: data).prefix(4).map { String(format: "%02x", $0) }.joined()
            return Key(id: id, key: key)
        }
        guard !keys.isEmpty else { throw SecretBoxError.badKey }
    }

    /// Reads the keys from a file, one base64 key per line, newest first.
    public static func load(file: String) throws -> SecretBox {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw SecretBoxError.missingKeyFile(file) }
        return try SecretBox(base64Keys: text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty })
    }

    /// A key for another purpose derived from each secrets key (HKDF-SHA256, newest first): sign
    /// with the first, accept any, and rotation works as it does for sealed values.
    public func derivedKeys(purpose: String) -> [SymmetricKey] {
        keys.map { HKDF<SHA256>.deriveKey(inputKeyMaterial: $0.key, info: Data(purpose.utf8), outputByteCount: 32) }
    }

    public func seal(_ plaintext: String) throws -> String {
        let sealed = try AES.GCM.seal(Data(plaintext.utf8), using: keys[0].key)
        guard let combined = sealed.combined else { throw SecretBoxError.cannotSeal }
        return "v1.\(keys[0].id).\(combined.base64EncodedString())"
    }

    public func open(_ sealed: String) throws -> String {
        let parts = sealed.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "v1", let key = keys.first(where: { $0.id == parts[1] }),
              let combined = Data(base64Encoded: String(parts[2]))
        else { throw SecretBoxError.cannotOpen }
        let box = try AES.GCM.SealedBox(combined: combined)
        return String(decoding: try AES.GCM.open(box, using: key.key), as: UTF8.self)
    }

    /// A new random key, base64: what `make run` writes to `.data/keys/secrets.key`.
    public static func newKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}

public enum SecretBoxError: Error, CustomStringConvertible {
    case badKey, cannotSeal, cannotOpen
    case missingKeyFile(String)

    public var description: String {
        switch self {
        case .badKey: "KEFU_SECRETS_KEY_FILE must hold base64 32-byte keys, one per line"
        case .cannotSeal: "could not encrypt a secret"
        case .cannotOpen: "a sealed secret is damaged or its key is no longer configured"
        case .missingKeyFile(let file): "cannot read the secrets key \(file) (KEFU_SECRETS_KEY_FILE); `make run` creates one"
        }
    }
}
