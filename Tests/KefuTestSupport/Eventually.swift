/// Whether `condition` holds within `timeout`, asked every 50 ms: for what another process or a
/// consumer does asynchronously. A time budget rather than a number of tries: under the whole
/// suite at once one try can take seconds, and a durable consumer shared by every test app of the
/// process delivers every test's events in turn.
public func eventually(
    within timeout: Duration = .seconds(90), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    repeat {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    } while ContinuousClock.now < deadline
    return try await condition()
}
