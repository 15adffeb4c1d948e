import Foundation
import KefuCore
import KefuTestSupport
import PostgresNIO
import Testing

@Suite struct MigrationTests {
    /// A scope of its own per test, in a temporary schema folder: tests never disturb each other.
    func makeScope(files: [String: String]) throws -> (directory: String, scope: String) {
        let scope = "test_\(UUID().uuidString.prefix(8).lowercased())"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kefu-schema-\(UUID())")
        let folder = directory.appendingPathComponent(scope)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: directory.appendingPathComponent("kefu"),
            withDestinationURL: URL(fileURLWithPath: TestEnvironment.schemaDirectory).appendingPathComponent("kefu")
        )
        for (name, sql) in files {
            try sql.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return (directory.path, scope)
    }

    func migrator(_ directory: String) throws -> Migrator {
        Migrator(url: try DatabaseURL(TestEnvironment.migrationDatabaseURL), schemaDirectory: directory, logger: TestEnvironment.logger)
    }

    @Test func appliesFilesInOrderOnceAndRecordsThem() async throws {
        try await TestEnvironment.migrateAll()
        let (directory, scope) = try makeScope(files: [
            "0002_second.sql": "SELECT 2;",
            "0001_first.sql": "SELECT 1; SELECT 11;",
        ])
        let first = try await migrator(directory).migrate(scopes: [scope])
        #expect(first.map(\.name) == ["0001_first.sql", "0002_second.sql"])
        let again = try await migrator(directory).migrate(scopes: [scope])
        #expect(again.isEmpty)
    }

    @Test func refusesAnAppliedFileThatWasEdited() async throws {
        try await TestEnvironment.migrateAll()
        let (directory, scope) = try makeScope(files: ["0001_first.sql": "SELECT 1;"])
        try await migrator(directory).migrate(scopes: [scope])
        try "SELECT 2;".write(toFile: "\(directory)/\(scope)/0001_first.sql", atomically: true, encoding: .utf8)
        await #expect(throws: MigrationError.editedAfterApply(scope: scope, name: "0001_first.sql")) {
            try await migrator(directory).migrate(scopes: [scope])
        }
    }

    @Test func aFailingFileLeavesNothingBehind() async throws {
        try await TestEnvironment.migrateAll()
        let table = "kefu.migration_probe_\(UUID().uuidString.prefix(8).lowercased())"
        let (directory, scope) = try makeScope(files: [
            "0001_broken.sql": "CREATE TABLE \(table) (x int); SELECT no_such_function();",
        ])
        await #expect(throws: (any Error).self) { try await migrator(directory).migrate(scopes: [scope]) }
        // Neither the table nor the record exists: the file ran in one transaction.
        #expect(try await TestEnvironment.ownerQuery("SELECT to_regclass(\(table))::text", as: String?.self) == [nil])
        #expect(try await TestEnvironment.ownerQuery(
            "SELECT count(*)::int FROM kefu.schema_migrations WHERE scope = \(scope)", as: Int.self
        ) == [0])
    }

    @Test func rejectsBadFileNames() throws {
        let (directory, scope) = try makeScope(files: ["1_short.sql": "SELECT 1;"])
        #expect(throws: MigrationError.badFileName(scope: scope, name: "1_short.sql")) {
            try MigrationFile.load(scope: scope, from: directory)
        }
    }

    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        try await TestEnvironment.migrateAll()
        let table = "kefu.concurrent_probe_\(UUID().uuidString.prefix(8).lowercased())"
        // CREATE TABLE without IF NOT EXISTS fails if a second migrator ran the file again.
        let (directory, scope) = try makeScope(files: ["0001_table.sql": "CREATE TABLE \(table) (x int); DROP TABLE \(table);"])
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask { try await migrator(directory).migrate(scopes: [scope]).count }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts.sorted() == [0, 0, 0, 1])
    }
}
