import Foundation

/// An entry of the shared material library (素材库), reusable by every channel and rule.
public struct Material: Codable, Sendable, Equatable {
    public var title: String
    /// A text, image or rich message (never a reference to another material).
    public var content: MessageContent

    public init(title: String, content: MessageContent) {
        self.title = title
        self.content = content
    }
}

/// An enterprise (企业快捷回复) or personal quick reply an agent inserts into a conversation.
public struct QuickReply: Codable, Sendable, Equatable {
    public var category: String
    public var title: String?
    public var text: String

    public init(category: String, title: String? = nil, text: String) {
        self.category = category
        self.title = title
        self.text = text
    }
}
