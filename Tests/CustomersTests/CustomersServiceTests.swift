import Customers
import KefuTestSupport
import Testing

@Suite struct CustomersServiceTests {
    @Test func servesOperationalRoutes() async throws {
        try await verifyServesOperationalRoutes(CustomersService.self)
    }
}
