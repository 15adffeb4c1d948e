import Foundation

/// A reception widget (接待组件): what a web page embeds, and how its visitors are received.
public struct Widget: Codable, Sendable, Equatable {
    public enum Style: String, Codable, Sendable { case icon, link }

    public var name: String
    public var style: Style
    /// `#RRGGBB`.
    public var colour: String
    /// Bubbles shown before the visitor opens the chat (分配前消息).
    public var preAssignmentMessages: [String]
    public var guideRulesEnabled: Bool
    public var reception: WidgetReception
    /// Where the widget is mounted (挂载位置), for reporting and filtering; at most 20.
    public var mountPositions: [MountPosition]
    /// Other entries the widget offers besides web reception.
    public var extraEntries: [WidgetEntry]
    /// Overrides the tenant's no-agent fallback for this widget's visitors.
    public var fallback: FallbackPolicy?
    /// The key the embed script is given; set by the server, stable for the widget's life.
    public var publicKey: String?

    public init(
        name: String, style: Style, colour: String, preAssignmentMessages: [String] = [], guideRulesEnabled: Bool = true,
        reception: WidgetReception, mountPositions: [MountPosition] = [], extraEntries: [WidgetEntry] = [],
        fallback: FallbackPolicy? = nil, publicKey: String? = nil
    ) {
        self.name = name
        self.style = style
        self.colour = colour
        self.preAssignmentMessages = preAssignmentMessages
        self.guideRulesEnabled = guideRulesEnabled
        self.reception = reception
        self.mountPositions = mountPositions
        self.extraEntries = extraEntries
        self.fallback = fallback
        self.publicKey = publicKey
    }

    public static let maxMountPositions = 20
}

/// How a widget's visitors are received.
public struct WidgetReception: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// 自助导航: the visitor picks one of `navigation`.
        case selfService = "self_service"
        /// 接待分组: one reception group.
        case group
        /// 单人接待: one agent.
        case agent
        /// 高级分配规则: the tenant's assignment rules.
        case rules
    }

    public var mode: Mode
    @LowercaseUUID public var groupId: UUID?
    @LowercaseUUID public var agentId: UUID?
    public var navigation: [NavigationOption]?

    public init(mode: Mode, groupId: UUID? = nil, agentId: UUID? = nil, navigation: [NavigationOption]? = nil) {
        self.mode = mode
        self.groupId = groupId
        self.agentId = agentId
        self.navigation = navigation
    }
}

/// One choice of a self-service navigation menu: a label leading to a group.
public struct NavigationOption: Codable, Sendable, Equatable {
    public var label: String
    @LowercaseUUID public var groupId: UUID

    public init(label: String, groupId: UUID) {
        self.label = label
        self.groupId = groupId
    }
}

public struct MountPosition: Codable, Sendable, Equatable {
    public var pageName: String
    public var url: String

    public init(pageName: String, url: String) {
        self.pageName = pageName
        self.url = url
    }
}

/// Entries a widget may lead to besides web reception (QQ reception, follow an official account…).
public struct WidgetEntry: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case qqReception = "qq_reception"
        case webReception = "web_reception"
        case followOfficialAccount = "follow_official_account"
        case joinGroup = "join_group"
        case addFriend = "add_friend"
    }

    public var kind: Kind
    public var label: String
    public var url: String

    public init(kind: Kind, label: String, url: String) {
        self.kind = kind
        self.label = label
        self.url = url
    }
}

/// What a widget's visitor-facing script may know: no rules, no agents, no other widgets.
public struct PublicWidget: Codable, Sendable, Equatable {
    public var name: String
    public var style: Widget.Style
    public var colour: String
    public var preAssignmentMessages: [String]
    public var receptionMode: WidgetReception.Mode
    /// Self-service navigation labels (group ids stay server-side; the visitor sends the index).
    public var navigation: [String]
    public var extraEntries: [WidgetEntry]

    public init(_ widget: Widget) {
        name = widget.name
        style = widget.style
        colour = widget.colour
        preAssignmentMessages = widget.preAssignmentMessages
        receptionMode = widget.reception.mode
        navigation = widget.reception.navigation?.map(\.label) ?? []
        extraEntries = widget.extraEntries
    }
}
