import Routing
import KefuTestSupport
import Testing

@Suite struct RoutingServiceTests {
    @Test func servesOperationalRoutes() async throws {
        try await verifyServesOperationalRoutes(RoutingService.self)
    }

    @Test func openAPIDocumentMatchesRoutes() async throws {
        try await verifyOpenAPIDocumentMatchesRoutes(RoutingService.self)
    }
}
