/// A functional permission (功能权限): "may you do this at all?".
/// The raw value is the stable key stored in roles and carried in tokens.
public struct Permission: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The catalogue entry for this key, if the key is known.
    public var info: PermissionInfo? { PermissionCatalogue.byKey[self] }
    public var isSensitive: Bool { info?.sensitive ?? false }
}

public enum PermissionGroup: String, Sendable, Codable, CaseIterable {
    case reception
    case customers
    case marketing
    case analytics
    case enterprise
    case client
}

public struct PermissionInfo: Sendable, Codable, Hashable {
    public let key: Permission
    public let group: PermissionGroup
    public let name: String
    /// Sensitive permissions need a second factor at sign-in (敏感权限二次验证).
    public let sensitive: Bool
}

extension Permission {
    // Reception configuration
    public static let receptionChannels = Permission(rawValue: "reception.channels")
    public static let receptionWidgets = Permission(rawValue: "reception.widgets")
    public static let receptionGroups = Permission(rawValue: "reception.groups")
    public static let receptionGuideRules = Permission(rawValue: "reception.guide_rules")
    public static let receptionAssignmentRules = Permission(rawValue: "reception.assignment_rules")
    public static let receptionQuickReplies = Permission(rawValue: "reception.quick_replies")
    public static let receptionSatisfaction = Permission(rawValue: "reception.satisfaction")
    public static let receptionQueue = Permission(rawValue: "reception.queue")
    public static let receptionSettings = Permission(rawValue: "reception.settings")
    // Customer library
    public static let customersView = Permission(rawValue: "customers.view")
    public static let customersEdit = Permission(rawValue: "customers.edit")
    public static let customersImport = Permission(rawValue: "customers.import")
    public static let customersExport = Permission(rawValue: "customers.export")
    public static let customersPool = Permission(rawValue: "customers.pool")
    public static let customersDelete = Permission(rawValue: "customers.delete")
    public static let customersFields = Permission(rawValue: "customers.fields")
    public static let customersScoringRules = Permission(rawValue: "customers.scoring_rules")
    public static let customersEntryRules = Permission(rawValue: "customers.entry_rules")
    public static let customersPrivateRemarks = Permission(rawValue: "customers.private_remarks")
    public static let customersPortrait = Permission(rawValue: "customers.portrait")
    // Interactive marketing
    public static let marketingInteractive = Permission(rawValue: "marketing.interactive")
    // Analytics
    public static let analyticsSessions = Permission(rawValue: "analytics.sessions")
    public static let analyticsRecords = Permission(rawValue: "analytics.records")
    public static let analyticsAgents = Permission(rawValue: "analytics.agents")
    public static let analyticsMonitoring = Permission(rawValue: "analytics.monitoring")
    public static let analyticsForcedTransfer = Permission(rawValue: "analytics.forced_transfer")
    public static let analyticsQA = Permission(rawValue: "analytics.qa")
    public static let analyticsExport = Permission(rawValue: "analytics.export")
    // Enterprise management
    public static let enterpriseOrganisation = Permission(rawValue: "enterprise.organisation")
    public static let enterpriseRoles = Permission(rawValue: "enterprise.roles")
    public static let enterpriseApiKeys = Permission(rawValue: "enterprise.api_keys")
    public static let enterpriseWebhooks = Permission(rawValue: "enterprise.webhooks")
    public static let enterpriseAuditLog = Permission(rawValue: "enterprise.audit_log")
    // Client features
    public static let clientLogin = Permission(rawValue: "client.login")
    public static let clientMobileLogin = Permission(rawValue: "client.mobile_login")
    public static let clientVideo = Permission(rawValue: "client.video")
    public static let clientFileTransfer = Permission(rawValue: "client.file_transfer")
    public static let clientTickets = Permission(rawValue: "client.tickets")
}

/// Every functional permission, grouped as the product is. Served by accounts at `/v1/permissions`.
public enum PermissionCatalogue {
    public static let all: [PermissionInfo] = [
        entry(.receptionChannels, .reception, "Channels"),
        entry(.receptionWidgets, .reception, "Reception widgets"),
        entry(.receptionGroups, .reception, "Reception groups"),
        entry(.receptionGuideRules, .reception, "Conversation guide rules"),
        entry(.receptionAssignmentRules, .reception, "Assignment rules"),
        entry(.receptionQuickReplies, .reception, "Enterprise quick replies"),
        entry(.receptionSatisfaction, .reception, "Satisfaction surveys"),
        entry(.receptionQueue, .reception, "Queue management"),
        entry(.receptionSettings, .reception, "Conversation settings"),
        entry(.customersView, .customers, "View customers"),
        entry(.customersEdit, .customers, "Edit customers"),
        entry(.customersImport, .customers, "Import customers"),
        entry(.customersExport, .customers, "Export customers", sensitive: true),
        entry(.customersPool, .customers, "Claim from public pools"),
        entry(.customersDelete, .customers, "Delete customers", sensitive: true),
        entry(.customersFields, .customers, "Custom fields"),
        entry(.customersScoringRules, .customers, "Value-scoring rules"),
        entry(.customersEntryRules, .customers, "Automatic entry rules"),
        entry(.customersPrivateRemarks, .customers, "Private remarks"),
        entry(.customersPortrait, .customers, "Portrait and funnel"),
        entry(.marketingInteractive, .marketing, "Interactive marketing"),
        entry(.analyticsSessions, .analytics, "Session analysis"),
        entry(.analyticsRecords, .analytics, "Session records"),
        entry(.analyticsAgents, .analytics, "Agent analysis"),
        entry(.analyticsMonitoring, .analytics, "Live monitoring"),
        entry(.analyticsForcedTransfer, .analytics, "Forced transfer and interrupt", sensitive: true),
        entry(.analyticsQA, .analytics, "Quality inspection"),
        entry(.analyticsExport, .analytics, "Export analytics", sensitive: true),
        entry(.enterpriseOrganisation, .enterprise, "Organisation", sensitive: true),
        entry(.enterpriseRoles, .enterprise, "Roles and permissions", sensitive: true),
        entry(.enterpriseApiKeys, .enterprise, "API keys"),
        entry(.enterpriseWebhooks, .enterprise, "Webhooks"),
        entry(.enterpriseAuditLog, .enterprise, "Audit log"),
        entry(.clientLogin, .client, "Log in to the workbench"),
        entry(.clientMobileLogin, .client, "Mobile login"),
        entry(.clientVideo, .client, "Video"),
        entry(.clientFileTransfer, .client, "File transfer"),
        entry(.clientTickets, .client, "Create tickets"),
    ]

    public static let byKey: [Permission: PermissionInfo] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    private static func entry(
        _ key: Permission, _ group: PermissionGroup, _ name: String, sensitive: Bool = false
    ) -> PermissionInfo {
        PermissionInfo(key: key, group: group, name: name, sensitive: sensitive)
    }
}
