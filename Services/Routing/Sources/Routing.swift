import Foundation
import KefuCore
import KefuModels
import Logging

/// Everything the routing routes and background work share: built once per process.
public struct Routing: Sendable {
    public let resources: ServiceResources
    /// Reception's configuration per tenant (snapshot over HTTP, refreshed on its events).
    let reception: ReceptionDirectory
    let visitorTokens: VisitorTokens
    /// The realtime sockets this replica holds.
    let sockets: SocketHub

    var database: Database { resources.database }
    var logger: Logger { resources.logger }

    init(resources: ServiceResources) throws {
        self.resources = resources
        let environment = resources.config.environment
        let receptionPort = environment["KEFU_RECEPTION_PORT"].flatMap(Int.init) ?? ServiceName.reception.defaultPort
        self.reception = ReceptionDirectory(
            baseURL: environment["KEFU_RECEPTION_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:\(receptionPort)",
            platformToken: resources.config.platformToken, logger: resources.logger
        )
        self.visitorTokens = try VisitorTokens(secretsKeyFile: resources.config.secretsKeyFile)
        self.sockets = SocketHub(database: resources.database, logger: resources.logger)
    }
}
