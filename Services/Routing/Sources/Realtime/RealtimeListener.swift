import Foundation
import KefuCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// LISTENs on `kefu_routing` (`keepListening`, as the event consumers do) and hands every notice
/// to the hub. Notices sent while the
/// connection was down are gone, so each time it is (re)established every socket resyncs from
/// the database.
struct RealtimeListener: Service {
    let hub: SocketHub
    let url: DatabaseURL
    let logger: Logger
    /// Finds what a socket should follow that it does not yet (conversations gained meanwhile).
    let discover: @Sendable (RealtimeSocket) async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await keepListening(url: url, applicationName: "kefu-listen:routing-realtime", logger: logger) { connection in
                try await connection.listen(on: RealtimeNotice.channel) { notices in
                    // Listening from here on: what happened before is read, what follows is heard.
                    await hub.resyncAll(discover: discover)
                    for try await notice in notices { hub.handle(payload: notice.payload) }
                }
            }
        }
    }
}
