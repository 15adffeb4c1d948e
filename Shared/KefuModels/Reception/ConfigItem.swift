import Foundation

/// One configured thing as the API and the snapshot show it: its document's fields, plus its id
/// and times, side by side in one JSON object (`{"id": …, "name": …, "created_at": …}`).
public struct ConfigItem<Document: Codable & Sendable>: Codable, Sendable {
    public var id: UUID
    public var document: Document
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, document: Document, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.document = document
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey { case id, createdAt, updatedAt }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        updatedAt = try container.decode(Date.self, forKey: .updatedAt)
        document = try Document(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
        try document.encode(to: encoder)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}
