import Foundation
import KefuCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// LISTENs on `kefu_routing` on one dedicated connection (not a pooled one) and hands every
/// notice to the hub; reconnects with backoff like the event consumers. Notices sent while the
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
            var backoff = Backoff()
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(
                        configuration: url.connectionConfiguration(applicationName: "kefu-listen:routing-realtime"), id: 0, logger: logger
                    )
                    backoff.reset()
                    do {
                        try await connection.listen(on: RealtimeNotice.channel) { notices in
                            // Listening from here on: what happened before is read, what follows is heard.
                            await hub.resyncAll(discover: discover)
                            for try await notice in notices { hub.handle(payload: notice.payload) }
                        }
                    } catch {
                        if !Task.isCancelled {
                            logger.warning("realtime listen connection lost", metadata: ["error": "\(String(reflecting: error))"])
                        }
                    }
                    try? await connection.close()
                } catch {
                    logger.warning("cannot open realtime listen connection", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: backoff.next())
            }
        }
    }
}
