import Customers
import KefuTestSupport
import Testing

@Suite struct CustomersServiceTests {
    @Test func servesOperationalRoutes() async throws {
        try await verifyServesOperationalRoutes(CustomersService.self)
    }

    @Test func openAPIDocumentMatchesRoutes() async throws {
        try await verifyOpenAPIDocumentMatchesRoutes(CustomersService.self)
    }
}
