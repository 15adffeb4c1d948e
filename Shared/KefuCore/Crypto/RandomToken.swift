import Foundation

/// Random, URL-safe tokens: API key secrets, refresh tokens, widget public keys.
public enum RandomToken {
    /// `bytes` random bytes, base64url without padding.
    public static func make(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
