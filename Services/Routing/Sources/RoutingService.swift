import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import KefuCore
import KefuModels
import ServiceLifecycle

/// The routing service (DOMAIN.md §3): visitors, agents' states, conversations, assignment, the
/// queue and messages. Reception's configuration comes from its snapshot; employees from
/// accounts' events.
public enum RoutingService: KefuServiceDefinition {
    public static let openAPIDocument = Bundle.module.url(forResource: "openapi", withExtension: "json")
    public static let name = ServiceName.routing

    public static func makeShared(resources: ServiceResources) async throws -> Routing {
        try Routing(resources: resources)
    }

    public static func addRoutes(to router: Router<KefuRequestContext>, shared routing: Routing) async throws {
        AgentsController(routing: routing).addRoutes(to: router)
        VisitorsController(routing: routing).addRoutes(to: router)
        VisitorConversationsController(routing: routing).addRoutes(to: router)
        ConversationsController(routing: routing).addRoutes(to: router)
        QueueController(routing: routing).addRoutes(to: router)
        TransferController(routing: routing).addRoutes(to: router)
        MonitorController(routing: routing).addRoutes(to: router)
        TopicController(routing: routing).addRoutes(to: router)
        RatingController(routing: routing).addRoutes(to: router)
        RealtimeController(routing: routing).addRoutes(to: router)
        PartnerInboundController(routing: routing).addRoutes(to: router)
        WeChatCallbackController(routing: routing).addRoutes(to: router)
        WeChatMenuController(routing: routing, api: WeChatAPI(routing: routing)).addRoutes(to: router)
        ChannelDeliveriesController(routing: routing).addRoutes(to: router)
    }

    /// HTTP/1.1 with the WebSocket upgrade for the realtime sockets (pinged every 30 s, so dead
    /// peers are found and idle proxies keep the connection).
    public static func server(shared routing: Routing, resources: ServiceResources) -> HTTPServerBuilder {
        let realtime = RealtimeController(routing: routing)
        return .http1WebSocketUpgrade(
            configuration: .init(ws: .init(maxFrameSize: 1 << 16, autoPing: .enabled(timePeriod: .seconds(30))))
        ) { request, _, logger in
            await realtime.shouldUpgrade(request, logger: logger)
        }
    }

    public static func backgroundServices(shared routing: Routing, resources: ServiceResources) async throws -> [any Service] {
        let agents = AgentProjection(routing: routing)
        let owners = OwnerProjection(database: resources.database)
        let groups = GroupChanges(routing: routing)
        let directory = routing.reception
        let pollMilliseconds = resources.config.environment["KEFU_TIMER_POLL_MS"].flatMap(Int.init) ?? 500
        let realtime = RealtimeController(routing: routing)
        return [
            TimerWorker(routing: routing, pollInterval: .milliseconds(max(pollMilliseconds, 10))),
            Presence(routing: routing),
            RealtimeListener(
                hub: routing.sockets, url: try DatabaseURL(resources.config.eventsDatabaseURL), logger: resources.logger
            ) { try await realtime.followLive($0, fromStart: true) },
            // Every process hears of every tenant's new reception version: the next visitor gets it.
            try resources.eventConsumer(
                name: "routing.reception:\(UUID().uuidString.lowercased())", types: [ReceptionConfigChanged.eventType],
                mode: .everyProcess(replaying: .seconds(60))
            ) { event in
                directory.announce(event.tenantID, version: try event.decode(ReceptionConfigChanged.self).version)
            },
            try resources.eventConsumer(name: "routing.agents", types: AgentProjection.eventTypes, handler: agents.handle),
            try resources.eventConsumer(name: "routing.customer_owners", types: OwnerProjection.eventTypes, handler: owners.handle),
            try resources.eventConsumer(name: "routing.group_seats", types: GroupChanges.eventTypes, handler: groups.handle),
            // Channel conversations' outgoing messages; deploying it sends nothing of the past.
            try resources.eventConsumer(name: "routing.channel_outbound", types: ChannelOutbound.eventTypes, mode: .durableFromNow, batchHandler: ChannelOutbound(
                routing: routing, wechat: WeChatOutbound(api: WeChatAPI(routing: routing), reception: routing.reception, logger: resources.logger),
                secrets: try SecretBox.load(file: resources.config.secretsKeyFile)
            ).handle),
        ]
    }
}
