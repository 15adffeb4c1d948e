import Analytics
import KefuTestSupport
import Testing

@Suite struct AnalyticsServiceTests {
    @Test func servesOperationalRoutes() async throws {
        try await verifyServesOperationalRoutes(AnalyticsService.self)
    }

    @Test func openAPIDocumentMatchesRoutes() async throws {
        try await verifyOpenAPIDocumentMatchesRoutes(AnalyticsService.self)
    }
}
