import Crypto
import Foundation
import KefuCore
import KefuModels
import Synchronization

/// Visitor tokens (`kefu_vt.<payload>.<mac>`): a visitor's credential for `/v1/visitor/...`,
/// scoped to one tenant and visitor. Signed with HMAC-SHA256 under a key derived from the secrets
/// key (`KEFU_SECRETS_KEY_FILE`), so every routing replica checks them without a lookup and no new
/// key file is needed. A browser keeps its token (30 days) and so its visitor.
struct VisitorTokens: Sendable {
    static let prefix = AuthenticationMiddleware.visitorTokenPrefix
    static let lifetime: TimeInterval = 30 * 24 * 3600

    struct Claims: Codable, Sendable {
        let tid: TenantID
        let vid: VisitorID
        /// Expiry, seconds since 1970.
        let exp: Int
    }

    /// Newest first: tokens are signed with the first and accepted under any (key rotation).
    private let keys: [SymmetricKey]
    /// Tokens already checked, with their claims: a visitor sends many requests with one token,
    /// and checking it (base64, HMAC, JSON) was a fifteenth of a message POST's CPU. The keys
    /// are fixed for the process's life, so a checked token stays good until it expires.
    private let checked = CheckedTokens()

    init(secretsKeyFile: String) throws {
        keys = try SecretBox.load(file: secretsKeyFile).derivedKeys(purpose: "kefu visitor token v1")
    }

    func issue(tenant: TenantID, visitor: VisitorID, now: Date = Date()) throws -> String {
        let payload = try JSONEncoder().encode(Claims(tid: tenant, vid: visitor, exp: Int(now.timeIntervalSince1970 + Self.lifetime)))
        let encoded = Self.base64URL(payload)
        return Self.prefix + encoded + "." + Self.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(encoded.utf8), using: keys[0])))
    }

    /// The claims of a valid, unexpired token; nil otherwise.
    func verify(_ token: String, now: Date = Date()) -> Claims? {
        if let claims = checked.claims(of: token) { return Double(claims.exp) > now.timeIntervalSince1970 ? claims : nil }
        guard token.hasPrefix(Self.prefix), token.utf8.count < 512 else { return nil }
        let parts = token.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Self.data(base64URL: String(parts[1])),
              keys.contains(where: { HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[0].utf8), using: $0) }),
              let payload = Self.data(base64URL: String(parts[0])),
              let claims = try? JSONDecoder().decode(Claims.self, from: payload),
              Double(claims.exp) > now.timeIntervalSince1970
        else { return nil }
        checked.keep(token, claims)
        return claims
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64URL text: String) -> Data? {
        // Byte by byte: Foundation's replacingOccurrences was most of a token check.
        var bytes = Array(text.utf8)
        for index in bytes.indices {
            if bytes[index] == UInt8(ascii: "-") { bytes[index] = UInt8(ascii: "+") }
            else if bytes[index] == UInt8(ascii: "_") { bytes[index] = UInt8(ascii: "/") }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(bytes))
    }
}

/// The visitor tokens this process has checked (at most `capacity`; emptied when full, which
/// costs one check per live visitor again).
final class CheckedTokens: Sendable {
    static let capacity = 20_000
    private let tokens = Mutex<[String: VisitorTokens.Claims]>([:])

    func claims(of token: String) -> VisitorTokens.Claims? { tokens.withLock { $0[token] } }

    func keep(_ token: String, _ claims: VisitorTokens.Claims) {
        tokens.withLock { tokens in
            if tokens.count >= Self.capacity { tokens.removeAll(keepingCapacity: true) }
            tokens[token] = claims
        }
    }
}
