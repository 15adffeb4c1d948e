import Foundation
import Hummingbird
import KefuCore
import KefuModels
import ServiceLifecycle

/// The reception service (DOMAIN.md §2): channels, materials, widgets, groups, guide and
/// assignment rules, the no-agent fallback and conversation settings. Routing reads it all
/// through the snapshot and refreshes on `reception.config_changed`.
public enum ReceptionService: KefuServiceDefinition {
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    public static let name = ServiceName.reception

    public static func makeShared(resources: ServiceResources) async throws -> Reception {
        try Reception(resources: resources)
    }

    public static func addRoutes(to router: Router<KefuRequestContext>, shared reception: Reception) async throws {
        ConfigController<Channel>(reception: reception, path: "/v1/channels", access: .tenant(.receptionChannels), what: "channel").addRoutes(to: router)
        AutoReplyController(reception: reception).addRoutes(to: router)
        ConfigController<Material>(reception: reception, path: "/v1/materials", access: .tenant(.receptionChannels), what: "material").addRoutes(to: router)
        ConfigController<Widget>(reception: reception, path: "/v1/widgets", access: .tenant(.receptionWidgets), what: "widget").addRoutes(to: router)
        PublicWidgetController(reception: reception).addRoutes(to: router)
        PlatformQuickReplyController(reception: reception).addRoutes(to: router)
        PlatformChannelController(reception: reception).addRoutes(to: router)
        ConfigController<ReceptionGroup>(reception: reception, path: "/v1/groups", access: .tenant(.receptionGroups), what: "group").addRoutes(to: router)
        ConfigController<GuideRule>(reception: reception, path: "/v1/guide-rules", access: .tenant(.receptionGuideRules), what: "guide rule").addRoutes(to: router)
        ConfigController<AssignmentRule>(reception: reception, path: "/v1/assignment-rules", access: .tenant(.receptionAssignmentRules), what: "assignment rule").addRoutes(to: router)
        ConfigController<EnterpriseQuickReply>(reception: reception, path: "/v1/quick-replies", access: .tenant(.receptionQuickReplies), what: "quick reply").addRoutes(to: router)
        ConfigController<PersonalQuickReply>(reception: reception, path: "/v1/me/quick-replies", access: .personal, what: "quick reply").addRoutes(to: router)
        SettingsController<FallbackPolicy>(reception: reception, path: "/v1/reception/fallback", permission: .receptionQueue).addRoutes(to: router)
        SettingsController<AssignmentSettings>(reception: reception, path: "/v1/reception/assignment-settings", permission: .receptionAssignmentRules).addRoutes(to: router)
        SettingsController<ConversationSettings>(reception: reception, path: "/v1/reception/conversation-settings", permission: .receptionSettings).addRoutes(to: router)
        SettingsController<EngagementSettings>(reception: reception, path: "/v1/reception/engagement", permission: .receptionSettings).addRoutes(to: router)
        SettingsController<SatisfactionSurvey>(reception: reception, path: "/v1/reception/satisfaction-survey", permission: .receptionSatisfaction).addRoutes(to: router)
        DryRunController(reception: reception).addRoutes(to: router)
        SnapshotController(reception: reception).addRoutes(to: router)
    }

    public static func backgroundServices(shared reception: Reception, resources: ServiceResources) async throws -> [any Service] {
        let agents = AgentDirectory(database: resources.database)
        let fields = CustomFieldDirectory(database: resources.database)
        let snapshots = reception.snapshots
        return [
            // Every process learns every tenant's newest version, for `?min_version=` reads.
            try resources.eventConsumer(
                name: "reception.versions:\(UUID().uuidString.lowercased())", types: [ReceptionConfigChanged.eventType],
                mode: .everyProcess(replaying: .seconds(60))
            ) { event in
                snapshots.announce(event.tenantID, version: try event.decode(ReceptionConfigChanged.self).version)
            },
            try resources.eventConsumer(name: "reception.agents", types: AgentDirectory.eventTypes, handler: agents.handle),
            try resources.eventConsumer(name: "reception.custom_fields", types: CustomFieldDirectory.eventTypes, handler: fields.handle),
        ]
    }
}
