import Foundation

/// Something reception sends on the tenant's behalf: a guide rule's push message, an official
/// account's auto-reply or menu reply, a pre-assignment bubble. Exactly the fields of its `type`
/// are set; `material` points into the shared material library.
public struct MessageContent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case text, image, rich, material
    }

    public var type: Kind
    /// `text`: up to 600 characters, simple formatting (line breaks, links).
    public var text: String?
    /// `image`: an https URL.
    public var imageUrl: String?
    /// `rich` (图文): one to eight articles.
    public var articles: [RichArticle]?
    /// `material`: a material of `/v1/materials`.
    @LowercaseUUID public var materialId: UUID?

    public init(type: Kind, text: String? = nil, imageUrl: String? = nil, articles: [RichArticle]? = nil, materialId: UUID? = nil) {
        self.type = type
        self.text = text
        self.imageUrl = imageUrl
        self.articles = articles
        self.materialId = materialId
    }

    public static func text(_ text: String) -> MessageContent { MessageContent(type: .text, text: text) }
}

/// One article of a rich (图文) message.
public struct RichArticle: Codable, Sendable, Equatable {
    public var title: String
    public var description: String?
    public var url: String
    public var imageUrl: String?

    public init(title: String, description: String? = nil, url: String, imageUrl: String? = nil) {
        self.title = title
        self.description = description
        self.url = url
        self.imageUrl = imageUrl
    }
}
