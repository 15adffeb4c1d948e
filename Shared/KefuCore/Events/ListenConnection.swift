import Foundation
import Logging
import PostgresNIO

/// Keeps one dedicated LISTEN connection (never a pooled one: a pooled connection goes back to
/// others with its LISTENs) open until cancelled. Connects, runs `body` on the connection until
/// it fails, closes it, calls `ended`, and connects again with capped backoff. NOTIFYs sent
/// while it was down are lost: `body` starts each connection with whatever catch-up its user
/// needs. The one way every consumer of NOTIFY listens (event consumers, routing's sockets).
public func keepListening(
    url: DatabaseURL, applicationName: String, logger: Logger,
    ended: @Sendable () -> Void = {},
    _ body: @Sendable (PostgresConnection) async throws -> Void
) async {
    var backoff = Backoff()
    while !Task.isCancelled {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: url.connectionConfiguration(applicationName: applicationName), id: 0, logger: logger
            )
            backoff.reset()
            do {
                try await body(connection)
            } catch {
                if !Task.isCancelled {
                    logger.warning("listen connection lost", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            ended()
            try? await connection.close()
        } catch {
            logger.warning("cannot open listen connection", metadata: ["error": "\(String(reflecting: error))"])
        }
        try? await Task.sleep(for: backoff.next())
    }
}
