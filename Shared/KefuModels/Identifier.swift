import Foundation

/// A typed UUID: `Identifier<Tenant>` and `Identifier<Employee>` cannot be mixed up by accident.
/// Encodes as a plain UUID string.
public struct Identifier<Entity>: Hashable, Sendable, Codable, CustomStringConvertible, LosslessStringConvertible {
    public let uuid: UUID

    public init(_ uuid: UUID = UUID()) { self.uuid = uuid }

    public init?(_ description: String) {
        guard let uuid = UUID(uuidString: description) else { return nil }
        self.uuid = uuid
    }

    public init(from decoder: any Decoder) throws {
        self.uuid = try decoder.singleValueContainer().decode(UUID.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Lower-case, as Postgres prints UUIDs.
    public var description: String { uuid.uuidString.lowercased() }
}

/// Phantom tags for `Identifier`; the types they stand for live in the services.
public enum Tenant {}
public enum Employee {}
public enum ApiKey {}

public typealias TenantID = Identifier<Tenant>
public typealias EmployeeID = Identifier<Employee>
public typealias ApiKeyID = Identifier<ApiKey>
