import Synchronization
import Foundation
import Hummingbird
import Prometheus

/// `/healthz` (the process is alive), `/readyz` (it can serve: database reachable as the serving
/// role and as the event reader, migrations applied), `/metrics` (Prometheus text) and
/// `/openapi.json`. Unauthenticated, as probes, scrapers and API tools expect.
enum OperationalRoutes {
    struct Status: ResponseEncodable {
        let status: String
        let service: String
    }

    static func add(
        to router: Router<KefuRequestContext>, resources: ServiceResources, migrated: MigrationState, openAPIDocument: URL?
    ) throws {
        let service = resources.service.rawValue
        router.get("/healthz") { _, _ in Status(status: "ok", service: service) }
        router.get("/readyz") { _, context -> Status in
            guard migrated.isDone else {
                throw Problem(.serviceUnavailable, code: "not_ready", detail: "Migrations have not finished.")
            }
            do {
                // The event reader too: with its role misconfigured, events would silently stop.
                try await withTimeout(.seconds(2)) {
                    try await resources.database.ping()
                    try await resources.eventReader.ping()
                }
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(String(reflecting: error))"])
                throw Problem(.serviceUnavailable, code: "not_ready", detail: "The database does not answer.")
            }
            return Status(status: "ready", service: service)
        }
        if let openAPIDocument {
            let document = ByteBuffer(bytes: try Data(contentsOf: openAPIDocument))
            router.get("/openapi.json") { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
            }
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: resources.metrics.emitToBuffer()))
            )
        }
    }
}

/// Set once this process has applied (or verified) every migration.
public final class MigrationState: Sendable {
    private let done = Atomic<Bool>(false)
    public init() {}
    public var isDone: Bool { done.load(ordering: .acquiring) }
    public func markDone() { done.store(true, ordering: .releasing) }
}

public struct TimeoutError: Error {}

public func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
