import PostgresNIO

/// Runs `body`, turning a unique-key violation into `conflict` (a 409 naming what is taken):
/// the one way to report "already exists" without a racy look-before-insert.
@discardableResult
public func rejectingDuplicates<T>(as conflict: @autoclosure () -> Problem, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
        throw conflict()
    }
}
