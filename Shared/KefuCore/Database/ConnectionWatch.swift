import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The connection of a transaction died under it and the transaction was abandoned.
public struct ConnectionLost: Error, CustomStringConvertible {
    public var description: String { "the database connection closed while a statement was waiting for its answer" }

    /// The connection to Postgres failed (refused, closed by a restart or an administrator):
    /// the work may succeed if retried, unlike a bug.
    static func isDatabaseUnavailable(_ error: any Error) -> Bool {
        if error is ConnectionLost { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            // 57P01-57P03: admin shutdown, crash shutdown, cannot connect now (starting up).
            return error.serverInfo?[.sqlState]?.hasPrefix("57P") == true
        default:
            return false
        }
    }
}

extension PostgresConnection {
    /// Runs `body`, giving up on it once this connection has been closed for a second.
    ///
    /// Why: postgres-nio 1.33 writes each statement to its channel without a write promise, so a
    /// statement written just after the server closed the connection (a Postgres restart, a
    /// killed backend) is never answered, and its caller — a request, an event consumer — would
    /// wait forever: requests hung, consumers stopped delivering, and SIGTERM could not drain.
    /// Statements in flight when the connection closes fail on their own within that second.
    func abandoningWhenClosed<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        let work = Task {
            do { outcome.finish(.success(try await body())) } catch { outcome.finish(.failure(error)) }
        }
        let watch = ConnectionWatchdog.shared.watch(self) {
            outcome.finish(.failure(ConnectionLost()))
            work.cancel()
        }
        defer { ConnectionWatchdog.shared.unwatch(watch) }
        return try await withTaskCancellationHandler {
            try await outcome.value()
        } onCancel: {
            work.cancel()
        }
    }
}

/// The connections of this process's work in flight, looked at twice a second: one ticker for
/// the process rather than a timer per transaction, which cost a third of the publish rate.
final class ConnectionWatchdog: Sendable {
    static let shared = ConnectionWatchdog()

    private struct Watched {
        let connection: PostgresConnection
        let abandon: @Sendable () -> Void
        var closedSince: ContinuousClock.Instant?
    }
    private struct State {
        var next = 0
        var watched: [Int: Watched] = [:]
        var ticking = false
    }
    private let state = Mutex(State())

    func watch(_ connection: PostgresConnection, abandon: @escaping @Sendable () -> Void) -> Int {
        let (id, start) = state.withLock { state -> (Int, Bool) in
            state.next += 1
            state.watched[state.next] = Watched(connection: connection, abandon: abandon)
            defer { state.ticking = true }
            return (state.next, !state.ticking)
        }
        if start {
            Task.detached { [self] in
                while true {
                    try? await Task.sleep(for: .milliseconds(500))
                    tick()
                }
            }
        }
        return id
    }

    func unwatch(_ id: Int) {
        state.withLock { _ = $0.watched.removeValue(forKey: id) }
    }

    private func tick() {
        let now = ContinuousClock.now
        let abandoned = state.withLock { state -> [@Sendable () -> Void] in
            var abandoned: [@Sendable () -> Void] = []
            for (id, var watched) in state.watched where watched.connection.isClosed {
                if let since = watched.closedSince, now - since >= .seconds(1) {
                    abandoned.append(watched.abandon)
                    state.watched[id] = nil
                } else if watched.closedSince == nil {
                    watched.closedSince = now
                    state.watched[id] = watched
                }
            }
            return abandoned
        }
        for abandon in abandoned { abandon() }
    }
}

/// The first result reported, delivered to one waiter.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }
    private let state = Mutex(State())

    func finish(_ result: Result<T, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<T, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
