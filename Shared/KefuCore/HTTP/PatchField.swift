/// A field of a PATCH body: left out (keep), `null` (clear) or a value (set). Plain optionals
/// cannot tell the first two apart.
public enum PatchField<Value: Sendable>: Sendable {
    case absent
    case null
    case value(Value)

    /// The new value given the current one.
    public func applied(to current: Value?) -> Value? {
        switch self {
        case .absent: current
        case .null: nil
        case .value(let value): value
        }
    }

    public var isPresent: Bool {
        if case .absent = self { false } else { true }
    }

    public var value: Value? {
        if case .value(let value) = self { value } else { nil }
    }
}

extension KeyedDecodingContainer {
    public func decodePatch<Value: Decodable & Sendable>(_ type: Value.Type, forKey key: Key) throws -> PatchField<Value> {
        guard contains(key) else { return .absent }
        if try decodeNil(forKey: key) { return .null }
        return .value(try decode(Value.self, forKey: key))
    }
}
