import Accounts
import KefuTestSupport
import Testing

@Suite struct AccountsServiceTests {
    @Test func servesOperationalRoutes() async throws {
        try await verifyServesOperationalRoutes(AccountsService.self)
    }

    @Test func openAPIDocumentMatchesRoutes() async throws {
        try await verifyOpenAPIDocumentMatchesRoutes(AccountsService.self)
    }
}
