import Foundation
import Hummingbird

/// `?limit=&cursor=` as read from a request. The cursor is opaque to clients: base64url of the
/// JSON the route put in it (typically the sort key of the last row returned).
public struct PageRequest: Sendable {
    public static let defaultLimit = 50
    public static let maxLimit = 200

    public let limit: Int
    private let cursorData: Data?

    public init(request: Request) throws {
        let query = request.uri.queryParameters
        if let raw = query["limit"] {
            guard let limit = Int(String(raw)), (1...Self.maxLimit).contains(limit) else {
                throw Problem.invalid("limit", "must be an integer from 1 to \(Self.maxLimit)")
            }
            self.limit = limit
        } else {
            self.limit = Self.defaultLimit
        }
        if let raw = query["cursor"], !raw.isEmpty {
            guard let data = Data(base64URLEncoded: String(raw)) else {
                throw Problem.invalid("cursor", "is not a cursor returned by this API")
            }
            self.cursorData = data
        } else {
            self.cursorData = nil
        }
    }

    /// The position after which to continue, or nil on the first page.
    public func cursor<C: Decodable>(as type: C.Type) throws -> C? {
        guard let cursorData else { return nil }
        do {
            return try KefuJSON.decoder().decode(C.self, from: cursorData)
        } catch {
            throw Problem.invalid("cursor", "is not a cursor returned by this API")
        }
    }

    /// Builds the page from up to `limit + 1` rows fetched: the extra row only says whether
    /// another page exists.
    public func page<Item: Encodable & Sendable, C: Encodable>(
        from rows: [Item], cursor: (Item) -> C
    ) throws -> Page<Item> {
        guard rows.count > limit else { return Page(data: rows, nextCursor: nil) }
        let data = Array(rows.prefix(limit))
        let next = try KefuJSON.encoder().encode(cursor(data[data.count - 1])).base64URLEncodedString()
        return Page(data: data, nextCursor: next)
    }
}

/// `{ "data": [...], "next_cursor": "…" | null }`
public struct Page<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    public let data: [Item]
    public let nextCursor: String?

    public init(data: [Item], nextCursor: String?) {
        self.data = data
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey { case data, nextCursor }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        // Explicit null: clients test `next_cursor == null` to stop.
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

extension Data {
    init?(base64URLEncoded string: String) {
        var base64 = string.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    func base64URLEncodedString() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
