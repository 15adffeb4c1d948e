import Foundation
import KefuCore
import Testing

@Suite struct SecretBoxTests {
    @Test func sealsOpensAndRotatesKeys() throws {
        let (old, new) = (SecretBox.newKey(), SecretBox.newKey())
        let before = try SecretBox(base64Keys: [old])
        let sealed = try before.seal("whsec_abc")
        #expect(!sealed.contains("whsec_abc"))
        #expect(try before.seal("whsec_abc") != sealed, "a fresh nonce every time")
        let rotated = try SecretBox(base64Keys: [new, old])
        #expect(try rotated.open(sealed) == "whsec_abc", "old values still open after rotation")
        #expect(try rotated.seal("x").split(separator: ".")[1] != sealed.split(separator: ".")[1], "new values use the new key")
        #expect(throws: (any Error).self) { try SecretBox(base64Keys: [new]).open(sealed) }
        // Flip one bit of the ciphertext itself (editing base64 text may only touch padding bits).
        let parts = sealed.split(separator: ".", maxSplits: 2).map(String.init)
        var bytes = [UInt8](Data(base64Encoded: parts[2])!)
        bytes[bytes.count / 2] ^= 0x01
        let tampered = "\(parts[0]).\(parts[1]).\(Data(bytes).base64EncodedString())"
        #expect(throws: (any Error).self) { try rotated.open(tampered) }
        #expect(throws: (any Error).self) { try SecretBox(base64Keys: ["short"]) }
    }
}
