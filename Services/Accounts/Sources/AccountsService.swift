import Foundation
import Hummingbird
import KefuCore

/// The accounts service: see DOMAIN.md. Routes are added here as the service grows.
public enum AccountsService: KefuServiceDefinition {
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    public static let name = ServiceName.accounts

    public static func addRoutes(to router: Router<KefuRequestContext>, resources: ServiceResources) async throws {}
}
