import Accounts
import Foundation
import KefuModels
import KefuTestSupport
import Testing

@Suite struct AccountsServiceTests {
    @Test func servesOperationalRoutes() async throws {
        try await verifyServesOperationalRoutes(AccountsService.self)
    }

    @Test func openAPIDocumentMatchesRoutes() async throws {
        try await verifyOpenAPIDocumentMatchesRoutes(AccountsService.self)
    }

    /// The document lists exactly the event types webhooks may subscribe to.
    @Test func openAPIDocumentListsTheWebhookEventCatalogue() throws {
        let url = try #require(AccountsService.openAPIDocument)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let listed = (schemas?["WebhookEventType"] as? [String: Any])?["enum"] as? [String]
        #expect(listed.map(Set.init) == Set(WebhookEventCatalogue.all))
    }
}
