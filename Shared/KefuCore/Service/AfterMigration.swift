import ServiceLifecycle

/// Runs `service` once this process's migrations are applied. Background work (event consumers,
/// timers, sweeps) starts with the server, but the server answers only after migrating; work
/// started earlier failed on tables and grants not there yet and logged a burst of warnings on
/// every fresh start.
struct AfterMigration: Service {
    let service: any Service
    let migrated: MigrationState

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !migrated.isDone { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard migrated.isDone, !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
        try await service.run()
    }
}
