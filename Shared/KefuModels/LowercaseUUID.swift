import Foundation

/// Writes UUIDs in lower case (RFC 9562; and as Postgres and `Identifier` print them) instead
/// of Foundation's upper case, so that every id a client sees compares equal as text.
/// Use on the UUID fields of response types: `@LowercaseUUID var id: UUID`. Reading accepts
/// either case. Optional fields are left out when nil, like plain optionals.
@propertyWrapper
public struct LowercaseUUID<Value: LowercaseUUIDValue>: Codable, Sendable, Equatable, Hashable {
    public var wrappedValue: Value

    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        wrappedValue = try Value(decoder: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try wrappedValue.encodeLowercased(to: encoder)
    }
}

public protocol LowercaseUUIDValue: Sendable, Hashable {
    init(decoder: any Decoder) throws
    func encodeLowercased(to encoder: any Encoder) throws
}

extension UUID: LowercaseUUIDValue {
    public init(decoder: any Decoder) throws {
        self = try decoder.singleValueContainer().decode(UUID.self)
    }

    public func encodeLowercased(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(uuidString.lowercased())
    }
}

extension Optional: LowercaseUUIDValue where Wrapped == UUID {
    public init(decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = container.decodeNil() ? nil : try container.decode(UUID.self)
    }

    public func encodeLowercased(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let self { try container.encode(self.uuidString.lowercased()) } else { try container.encodeNil() }
    }
}

extension Array: LowercaseUUIDValue where Element == UUID {
    public init(decoder: any Decoder) throws {
        self = try decoder.singleValueContainer().decode([UUID].self)
    }

    public func encodeLowercased(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(map { $0.uuidString.lowercased() })
    }
}

extension KeyedEncodingContainer {
    /// Leaves a nil optional id out, as synthesized `Encodable` does for plain optionals.
    public mutating func encode(_ value: LowercaseUUID<UUID?>, forKey key: Key) throws {
        if let uuid = value.wrappedValue { try encode(uuid.uuidString.lowercased(), forKey: key) }
    }
}

extension KeyedDecodingContainer {
    /// A missing optional id decodes as nil.
    public func decode(_ type: LowercaseUUID<UUID?>.Type, forKey key: Key) throws -> LowercaseUUID<UUID?> {
        LowercaseUUID(wrappedValue: try decodeIfPresent(UUID.self, forKey: key))
    }
}
