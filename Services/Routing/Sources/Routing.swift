import Foundation
import KefuCore
import KefuModels
import KefuReceptionClient
import Logging

/// Everything the routing routes and background work share: built once per process.
public struct Routing: Sendable {
    public let resources: ServiceResources
    /// Reception's configuration per tenant (snapshot over HTTP, refreshed on its events).
    let reception: ReceptionDirectory
    let visitorTokens: VisitorTokens
    /// Starting visitors is anonymous: limited per client address.
    let rateLimiter: RateLimiter
    let visitorsPerAddress: Int
    /// The realtime sockets this replica holds.
    let sockets: SocketHub
    let presence: PresenceTiming

    var database: Database { resources.database }
    var logger: Logger { resources.logger }

    init(resources: ServiceResources) throws {
        self.resources = resources
        let environment = resources.config.environment
        self.reception = ReceptionDirectory(resources: resources)
        self.visitorTokens = try VisitorTokens(secretsKeyFile: resources.config.secretsKeyFile)
        self.rateLimiter = RateLimiter(database: resources.database, schema: "routing")
        self.visitorsPerAddress = environment["KEFU_VISITOR_RATE_LIMIT_PER_ADDRESS"].flatMap(Int.init) ?? 120
        self.sockets = SocketHub(database: resources.database, logger: resources.logger)
        self.presence = PresenceTiming(
            grace: environment["KEFU_PRESENCE_GRACE_SECONDS"].flatMap(Int.init) ?? 60,
            heartbeat: max(environment["KEFU_PRESENCE_HEARTBEAT_SECONDS"].flatMap(Int.init) ?? 20, 1)
        )
    }
}
