import Reception
import KefuTestSupport
import Testing

@Suite struct ReceptionServiceTests {
    @Test func servesOperationalRoutes() async throws {
        try await verifyServesOperationalRoutes(ReceptionService.self)
    }

    @Test func openAPIDocumentMatchesRoutes() async throws {
        try await verifyOpenAPIDocumentMatchesRoutes(ReceptionService.self)
    }
}
