import Foundation
import Hummingbird
import KefuCore

/// The reception service: see DOMAIN.md. Routes are added here as the service grows.
public enum ReceptionService: KefuServiceDefinition {
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    public static let name = ServiceName.reception

    public static func addRoutes(to router: Router<KefuRequestContext>, resources: ServiceResources) async throws {}
}
