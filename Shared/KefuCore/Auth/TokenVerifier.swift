import Crypto
import Foundation
import JWTKit
import Logging
import Synchronization

/// Verifies access tokens with the public halves of accounts' ES256 signing keys. Several keys
/// may be configured at once so that keys can be rotated without signing everybody out.
public struct TokenVerifier: Sendable {
    let keys: JWTKeyCollection
    public let keyIDs: [String]
    /// Tokens already verified, until they expire: a client sends the same token with every
    /// request for its lifetime, and an ES256 verification costs more than the rest of a light
    /// request. Safe because validity depends only on the signature and `exp`; revocation is
    /// checked separately on every request.
    let verified = VerifiedTokenCache(capacity: 10_000)

    public init(publicKeyPEMs: [String]) async throws {
        let keys = JWTKeyCollection()
        var keyIDs: [String] = []
        for pem in publicKeyPEMs {
            let key = try ES256PublicKey(pem: pem)
            let keyID = Self.keyID(for: key)
            await keys.add(ecdsa: key, kid: JWKIdentifier(string: keyID))
            keyIDs.append(keyID)
        }
        self.keys = keys
        self.keyIDs = keyIDs
    }

    /// Loads every readable file; a missing file is logged, not fatal, so a service can start
    /// before accounts has created its key (requests with tokens then get 401 until restart).
    public static func load(files: [String], logger: Logger) async throws -> TokenVerifier {
        var pems: [String] = []
        for file in files {
            if let pem = try? String(contentsOfFile: file, encoding: .utf8) {
                pems.append(pem)
            } else {
                logger.warning("token verification key not found; bearer tokens will be refused", metadata: ["file": "\(file)"])
            }
        }
        return try await TokenVerifier(publicKeyPEMs: pems)
    }

    /// Key id: the first 16 hex digits of the SHA-256 of the key's DER form. Stable across
    /// processes, so signer and verifiers agree without configuring it.
    public static func keyID(for key: ES256PublicKey) -> String {
        let der = Data(base64Encoded: key.pemRepresentation
            .split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()) ?? Data()
        return SHA256.hash(data: der).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// The principal of a valid access token, or a 401 problem.
    public func verify(_ token: String) async throws -> Principal {
        guard !keyIDs.isEmpty else { throw Problem.unauthorized("This service has no token verification key.") }
        if let principal = verified.principal(for: token) { return principal }
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw Problem.unauthorized("The access token is invalid or expired.")
        }
        guard let principal = claims.principal else { throw Problem.unauthorized("The access token is malformed.") }
        verified.insert(principal, for: token, expires: claims.exp.value)
        return principal
    }
}

/// A bounded map from token to principal, entries dropped at expiry. When full it is emptied
/// wholesale: simpler than LRU, and a refill costs one verification per active client.
final class VerifiedTokenCache: Sendable {
    private let entries = Mutex<[String: (principal: Principal, expires: Date)]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func principal(for token: String) -> Principal? {
        entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.expires > Date() else {
                entries[token] = nil
                return nil
            }
            return entry.principal
        }
    }

    func insert(_ principal: Principal, for token: String, expires: Date) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = (principal, expires)
        }
    }
}
