import Foundation
import KefuCore
import Testing

@Suite struct WebhookSignatureTests {
    /// The Standard Webhooks specification's published example (and its libraries' tests).
    @Test func signsTheSpecificationsExample() throws {
        let secret = try #require(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let body = Data(#"{"test": 2432232314}"#.utf8)
        #expect(secret.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body)
            == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func newSecretsAreWhsecAndBase64OfRandomBytes() throws {
        let secret = WebhookSecret.generate()
        #expect(secret.text.hasPrefix("whsec_"))
        let key = try #require(Data(base64Encoded: String(secret.text.dropFirst(6))))
        #expect(key.count == 32)
        #expect(WebhookSecret(secret.text) == secret, "a stored secret reads back as the same key")
        #expect(WebhookSecret.generate() != secret)
        #expect(WebhookSecret("whsec_" + Data(count: 23).base64EncodedString()) == nil, "fewer than 24 bytes")
        #expect(WebhookSecret("whsec_" + Data(count: 65).base64EncodedString()) == nil, "more than 64 bytes")
        #expect(WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil, "no prefix")
    }

    /// During a rotation both secrets sign, space-separated, the current one first.
    @Test func signsWithEverySecretGiven() throws {
        let (current, previous) = (WebhookSecret.generate(), WebhookSecret.generate())
        let body = Data(#"{"type":"x"}"#.utf8)
        let headers = WebhookSignedHeaders(id: "msg_1", timestamp: 1_700_000_000, body: body, secrets: [current, previous])
        #expect(headers.signature == current.signature(id: "msg_1", timestamp: 1_700_000_000, body: body) + " "
            + previous.signature(id: "msg_1", timestamp: 1_700_000_000, body: body))
        #expect(headers.asPairs.map(\.0) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
    }
}

@Suite struct OutboundAddressGuardTests {
    let guarded = OutboundAddressGuard(allowPrivate: false)

    @Test(arguments: [
        "http://127.0.0.1/hook", "http://localhost:8080/hook", "http://[::1]/", "http://10.1.2.3/", "http://172.20.0.1/",
        "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/", "http://0.0.0.0/",
        "http://[fe80::1]/", "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/", "https://224.0.0.1/",
        // Other spellings of 127.0.0.1 that resolvers accept.
        "http://2130706433/", "http://0x7f000001/", "http://127.1/",
    ])
    func refusesPrivateLoopbackAndLinkLocalAddresses(url: String) async throws {
        await #expect(throws: OutboundAddressGuard.Refusal.self) { try await guarded.check(url) }
    }

    @Test func allowsPublicAddressesAndWhatTheSettingAllows() async throws {
        try await guarded.check("https://93.184.215.14/hooks")
        try await guarded.check("http://[2606:4700::1111]/")
        try await OutboundAddressGuard(allowPrivate: true).check("http://127.0.0.1:9/")
        await #expect(throws: OutboundAddressGuard.Refusal.notHTTP) { try await guarded.check("ftp://93.184.215.14/") }
        await #expect(throws: OutboundAddressGuard.Refusal.notHTTP) {
            try await OutboundAddressGuard(allowPrivate: true).check("file:///etc/passwd")
        }
    }
}
