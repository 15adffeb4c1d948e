import Foundation

/// Everything a routing replica needs to receive a tenant's visitors, as of one `version`
/// (`GET /v1/reception/snapshot`). Rules are in evaluation order; credentials are not included.
public struct ReceptionSnapshot: Codable, Sendable {
    public var version: Int64
    public var channels: [ConfigItem<Channel>]
    public var autoReplies: [ChannelAutoReplies]
    public var materials: [ConfigItem<Material>]
    public var widgets: [ConfigItem<Widget>]
    public var groups: [ConfigItem<ReceptionGroup>]
    public var guideRules: [ConfigItem<GuideRule>]
    public var assignmentRules: [ConfigItem<AssignmentRule>]
    public var fallback: FallbackPolicy
    public var assignment: AssignmentSettings
    public var conversation: ConversationSettings
    public var engagement: EngagementSettings
    public var satisfaction: SatisfactionSurvey
    /// The customer custom fields rules may test, by API name.
    public var customFields: [FieldDefinition]

    public init(
        version: Int64, channels: [ConfigItem<Channel>], autoReplies: [ChannelAutoReplies], materials: [ConfigItem<Material>],
        widgets: [ConfigItem<Widget>], groups: [ConfigItem<ReceptionGroup>], guideRules: [ConfigItem<GuideRule>],
        assignmentRules: [ConfigItem<AssignmentRule>], fallback: FallbackPolicy, assignment: AssignmentSettings,
        conversation: ConversationSettings, engagement: EngagementSettings, satisfaction: SatisfactionSurvey, customFields: [FieldDefinition]
    ) {
        self.version = version
        self.channels = channels
        self.autoReplies = autoReplies
        self.materials = materials
        self.widgets = widgets
        self.groups = groups
        self.guideRules = guideRules
        self.assignmentRules = assignmentRules
        self.fallback = fallback
        self.assignment = assignment
        self.conversation = conversation
        self.engagement = engagement
        self.satisfaction = satisfaction
        self.customFields = customFields
    }
}

/// An official account's auto-replies, keyed by its channel.
public struct ChannelAutoReplies: Codable, Sendable {
    @LowercaseUUID public var channelId: UUID
    public var autoReply: ChannelAutoReply

    public init(channelId: UUID, autoReply: ChannelAutoReply) {
        self.channelId = channelId
        self.autoReply = autoReply
    }
}
