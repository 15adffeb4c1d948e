import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
@testable import Routing
import Testing

/// Visitor tokens are checked once and then known: knowing one never makes an expired,
/// altered or foreign token pass.
@Suite struct VisitorTokenTests {
    @Test func aCheckedTokenStillExpiresAndNothingLikeItPasses() throws {
        let tokens = try VisitorTokens(secretsKeyFile: TestEnvironment.secretsKeyFile)
        let tenant = TenantID(), visitor = VisitorID()
        let now = Date()
        let token = try tokens.issue(tenant: tenant, visitor: visitor, now: now)
        let claims = try #require(tokens.verify(token, now: now))
        #expect(claims.tid == tenant && claims.vid == visitor)
        #expect(tokens.verify(token, now: now)?.vid == visitor, "known now, still good")
        #expect(tokens.verify(token, now: now.addingTimeInterval(VisitorTokens.lifetime + 1)) == nil, "a known token still expires")
        #expect(tokens.verify(token + "x", now: now) == nil)
        #expect(tokens.verify(String(token.dropLast()), now: now) == nil)
        let otherKey = FileManager.default.temporaryDirectory.appendingPathComponent("kefu-test-\(UUID()).secrets.key").path
        try SecretBox.newKey().write(toFile: otherKey, atomically: true, encoding: .utf8)
        let elsewhere = try VisitorTokens(secretsKeyFile: otherKey)
        #expect(elsewhere.verify(token, now: now) == nil, "another key's tokens are not ours")
        #expect(elsewhere.verify(try elsewhere.issue(tenant: tenant, visitor: visitor, now: now), now: now) != nil)
        #expect(tokens.verify(try elsewhere.issue(tenant: tenant, visitor: visitor, now: now), now: now) == nil)
    }
}
