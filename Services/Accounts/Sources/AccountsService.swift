import Foundation
import Hummingbird
import KefuCore
import KefuModels
import ServiceLifecycle

/// The accounts service (DOMAIN.md §1): tenants, organisation, employees, roles and
/// permissions, sign-in, API keys, webhooks and the audit log. The root of trust: it signs the
/// access tokens every other service verifies.
public enum AccountsService: KefuServiceDefinition {
    public static let name = ServiceName.accounts
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    /// `/v1/me` answers are cached (`Accounts.profiles`): they are read from these.
    public static let cachedEventTypes: Set<String> = [
        TenantUpdated.eventType, TenantSuspended.eventType, TenantReactivated.eventType,
        EmployeeCreated.eventType, EmployeeUpdated.eventType, EmployeeStatusChanged.eventType,
        EmployeeRolesChanged.eventType, EmployeeBusinessTransferred.eventType, EmployeePasswordChanged.eventType,
        DepartmentChanged.eventType, RoleChanged.eventType,
    ]

    public static func makeShared(resources: ServiceResources) async throws -> Accounts {
        try await Accounts(resources: resources, settings: AccountsSettings(environment: resources.config.environment))
    }

    public static func addRoutes(to router: Router<KefuRequestContext>, shared accounts: Accounts) async throws {
        PlatformController(accounts: accounts).addRoutes(to: router)
        AuthController(accounts: accounts).addRoutes(to: router)
        PasswordsController(accounts: accounts).addRoutes(to: router)
        MeController(accounts: accounts).addRoutes(to: router)
        DepartmentsController(accounts: accounts).addRoutes(to: router)
        EmployeesController(accounts: accounts).addRoutes(to: router)
        PhoneChangeController(accounts: accounts).addRoutes(to: router)
        HandoverController(accounts: accounts).addRoutes(to: router)
        OrganisationCSVController(accounts: accounts).addRoutes(to: router)
        RolesController(accounts: accounts).addRoutes(to: router)
        ApiKeysController(accounts: accounts).addRoutes(to: router)
        WebhooksController(accounts: accounts).addRoutes(to: router)
        WebhookDeliveriesController(accounts: accounts).addRoutes(to: router)
        AuditLogController(accounts: accounts).addRoutes(to: router)
    }

    public static func backgroundServices(shared accounts: Accounts, resources: ServiceResources) async throws -> [any Service] {
        let feed = AuditFeed(database: resources.database)
        let fanOut = WebhookFanOut(
            database: resources.database, dispatcher: accounts.webhookDispatcher,
            partnerChannels: PartnerChannelFanOut(database: resources.database, secrets: accounts.secrets)
        )
        return [
            // The platform role's pool runs for as long as the routes using it (like the serving pool).
            accounts.platformDatabase.client,
            try resources.eventConsumer(name: "accounts.audit_log", types: AuditFeed.eventTypes, handler: feed.handle),
            // Partners get what happens from now on: existing subscriptions are not sent the past.
            try resources.eventConsumer(name: "accounts.webhooks", types: WebhookFanOut.consumed, mode: .durableFromNow, batchHandler: fanOut.handle),
        ] + (accounts.settings.webhooks.deliver ? [accounts.webhookDispatcher] : [])
    }
}
