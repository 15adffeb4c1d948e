import Foundation
import Hummingbird
import KefuCore
import KefuModels
import KefuReceptionClient
import ServiceLifecycle

/// The customers service (DOMAIN.md §4): the customer library and its contacts, identities and
/// merges, ownership and pools, custom fields, views, follow-ups and the trail, entry and scoring
/// rules, batch actions and CSV. Contacts come from routing's visitor and conversation events;
/// owners follow accounts' handovers and reception's groups; owners go back to routing as
/// `customer.owner_changed`, fields to reception as `customer_field.changed`.
public enum CustomersService: KefuServiceDefinition {
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    public static let name = ServiceName.customers

    public static func addRoutes(to router: Router<KefuRequestContext>, shared resources: ServiceResources) async throws {
        CustomersController(database: resources.database).addRoutes(to: router)
        OwnershipController(database: resources.database).addRoutes(to: router)
        MergeController(database: resources.database).addRoutes(to: router)
        BatchController(database: resources.database).addRoutes(to: router)
        CustomersCSVController(database: resources.database).addRoutes(to: router)
        FollowUpsController(database: resources.database).addRoutes(to: router)
        PersonalMarksController(database: resources.database).addRoutes(to: router)
        CustomFieldsController(database: resources.database).addRoutes(to: router)
        ViewsController(database: resources.database).addRoutes(to: router)
        LibrarySettingsController(database: resources.database).addRoutes(to: router)
        RulesController(database: resources.database, kind: .entry, path: "/v1/entry-rules", permission: .customersEntryRules).addRoutes(to: router)
        RulesController(database: resources.database, kind: .scoring, path: "/v1/scoring-rules", permission: .customersScoringRules).addRoutes(to: router)
    }

    public static func backgroundServices(shared: ServiceResources, resources: ServiceResources) async throws -> [any Service] {
        [
            try resources.eventConsumer(name: "customers.contacts", types: ContactsFromRouting.eventTypes, handler: ContactsFromRouting(database: resources.database).handle),
            try resources.eventConsumer(name: "customers.channel_contacts", types: ContactsFromChannels.eventTypes, handler: ContactsFromChannels(database: resources.database).handle),
            try resources.eventConsumer(name: "customers.employees", types: EmployeesFromAccounts.eventTypes, handler: EmployeesFromAccounts(database: resources.database).handle),
            try resources.eventConsumer(name: "customers.rules", types: RulesSweep.eventTypes, handler: RulesSweep(database: resources.database).handle),
            try resources.eventConsumer(name: "customers.groups", types: GroupsFromReception.eventTypes, handler: GroupsFromReception(
                database: resources.database, reception: ReceptionDirectory(resources: resources)
            ).handle),
        ]
    }
}
