import Foundation
import Hummingbird
import KefuModels

extension Material: ReceptionDocument {
    static var kind: ConfigKind { .material }

    mutating func check(_ c: inout DocumentCheck) {
        c.text(&title, "title", length: 1...64)
        c.message(&content, "content", allowMaterial: false)
    }
}

extension QuickReply {
    mutating func checkQuickReply(_ c: inout DocumentCheck) {
        c.text(&category, "category", length: 1...30)
        c.text(&title, "title", length: 1...30)
        c.text(&text, "text", length: 1...1000)
    }
}

/// An enterprise quick reply (企业快捷回复), shared by every agent of the tenant.
struct EnterpriseQuickReply: ReceptionDocument {
    static var kind: ConfigKind { .quickReply }
    var reply: QuickReply

    init(from decoder: any Decoder) throws { reply = try QuickReply(from: decoder) }
    func encode(to encoder: any Encoder) throws { try reply.encode(to: encoder) }
    mutating func check(_ c: inout DocumentCheck) { reply.checkQuickReply(&c) }

    static func listFilter(_ request: Request) throws -> (@Sendable (EnterpriseQuickReply) -> Bool)? {
        guard let category = request.uri.queryParameters["category"].map(String.init) else { return nil }
        return { $0.reply.category == category }
    }
}

/// A personal quick reply: only its owner sees and edits it.
struct PersonalQuickReply: ReceptionDocument {
    static var kind: ConfigKind { .personalQuickReply }
    var reply: QuickReply

    init(from decoder: any Decoder) throws { reply = try QuickReply(from: decoder) }
    func encode(to encoder: any Encoder) throws { try reply.encode(to: encoder) }
    mutating func check(_ c: inout DocumentCheck) { reply.checkQuickReply(&c) }

    static func listFilter(_ request: Request) throws -> (@Sendable (PersonalQuickReply) -> Bool)? {
        guard let category = request.uri.queryParameters["category"].map(String.init) else { return nil }
        return { $0.reply.category == category }
    }
}
