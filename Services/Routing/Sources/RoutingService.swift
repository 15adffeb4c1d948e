import Foundation
import Hummingbird
import KefuCore

/// The routing service: see DOMAIN.md. Routes are added here as the service grows.
public enum RoutingService: KefuServiceDefinition {
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    public static let name = ServiceName.routing

    public static func addRoutes(to router: Router<KefuRequestContext>, shared: ServiceResources) async throws {}
}
