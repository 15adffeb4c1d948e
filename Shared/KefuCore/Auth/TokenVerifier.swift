import Crypto
import Foundation
import JWTKit
import Logging

/// Verifies access tokens with the public halves of accounts' ES256 signing keys. Several keys
/// may be configured at once so that keys can be rotated without signing everybody out.
public struct TokenVerifier: Sendable {
    let keys: JWTKeyCollection
    public let keyIDs: [String]

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
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw Problem.unauthorized("The access token is invalid or expired.")
        }
        guard let principal = claims.principal else { throw Problem.unauthorized("The access token is malformed.") }
        return principal
    }
}
