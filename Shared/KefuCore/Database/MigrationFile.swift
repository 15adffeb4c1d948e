import Crypto
import Foundation

/// One `NNNN_name.sql` file of a schema folder.
public struct MigrationFile: Sendable, Equatable {
    /// The folder the file comes from: `kefu` for the shared core, else the service's schema.
    public let scope: String
    public let number: Int
    /// File name, e.g. `0001_events.sql`: what is recorded as applied.
    public let name: String
    public let sql: String

    /// SHA-256 of the file's bytes, hex: an applied file whose checksum changes was edited.
    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The file as one statement: postgres-nio speaks only the extended protocol, which takes one
    /// command at a time, so the file runs through PL/pgSQL's EXECUTE (which takes many), quoted
    /// with dollar tags the file does not contain.
    public var executableSQL: String {
        var suffix = ""
        while sql.contains("$kefu_do\(suffix)$") || sql.contains("$kefu_sql\(suffix)$") {
            suffix = "_\(UInt32.random(in: 0...UInt32.max))"
        }
        let (body, file) = ("$kefu_do\(suffix)$", "$kefu_sql\(suffix)$")
        return "DO \(body) BEGIN EXECUTE \(file)\(sql)\(file); END \(body)"
    }

    /// Reads `<directory>/<scope>/NNNN_*.sql` in number order; refuses gaps in naming and duplicates.
    public static func load(scope: String, from directory: String) throws -> [MigrationFile] {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent(scope)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            throw MigrationError.missingFolder(folder.path)
        }
        var files: [MigrationFile] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            let prefix = name.prefix { $0.isNumber }
            guard prefix.count == 4, let number = Int(prefix), name.dropFirst(4).first == "_" else {
                throw MigrationError.badFileName(scope: scope, name: name)
            }
            if let previous = files.last, previous.number == number {
                throw MigrationError.duplicateNumber(scope: scope, first: previous.name, second: name)
            }
            let sql = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            files.append(MigrationFile(scope: scope, number: number, name: name, sql: sql))
        }
        return files
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case missingFolder(String)
    case badFileName(scope: String, name: String)
    case duplicateNumber(scope: String, first: String, second: String)
    case editedAfterApply(scope: String, name: String)
    case failed(scope: String, name: String, reason: String)

    public var description: String {
        switch self {
        case .missingFolder(let path):
            "migration folder \(path) does not exist (set KEFU_SCHEMA_DIR)"
        case .badFileName(let scope, let name):
            "schema/\(scope)/\(name): migration files are named NNNN_name.sql"
        case .duplicateNumber(let scope, let first, let second):
            "schema/\(scope): \(first) and \(second) share a number"
        case .editedAfterApply(let scope, let name):
            "schema/\(scope)/\(name) was edited after it was applied; add a new migration instead"
        case .failed(let scope, let name, let reason):
            "schema/\(scope)/\(name) failed: \(reason)"
        }
    }
}
