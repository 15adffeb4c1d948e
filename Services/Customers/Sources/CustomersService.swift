import Foundation
import Hummingbird
import KefuCore

/// The customers service: see DOMAIN.md. Routes are added here as the service grows.
public enum CustomersService: KefuServiceDefinition {
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    public static let name = ServiceName.customers

    public static func addRoutes(to router: Router<KefuRequestContext>, shared: ServiceResources) async throws {}
}
