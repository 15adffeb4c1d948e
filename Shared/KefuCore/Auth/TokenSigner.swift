import JWTKit

/// Signs access tokens with an ES256 private key. Only accounts signs in production; the tests
/// sign with a key of their own. The key id is derived from the public half (see TokenVerifier).
public struct TokenSigner: Sendable {
    let keys: JWTKeyCollection
    public let keyID: String
    public let publicKeyPEM: String
    /// The public key's coordinates, base64url: what `/.well-known/jwks.json` publishes.
    public let publicKeyX: String
    public let publicKeyY: String

    public init(privateKeyPEM: String) async throws {
        let key = try ES256PrivateKey(pem: privateKeyPEM)
        let keyID = TokenVerifier.keyID(for: key.publicKey)
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: keyID))
        self.keys = keys
        self.keyID = keyID
        self.publicKeyPEM = key.publicKey.pemRepresentation
        self.publicKeyX = key.publicKey.parameters?.x ?? ""
        self.publicKeyY = key.publicKey.parameters?.y ?? ""
    }

    public func sign(_ claims: AccessTokenClaims) async throws -> String {
        try await keys.sign(claims, kid: JWKIdentifier(string: keyID))
    }
}
