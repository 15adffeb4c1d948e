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

/// Whose quick replies: the tenant's (企业快捷回复, shared by every agent) or one employee's.
protocol QuickReplyScope: Sendable {
    static var kind: ConfigKind { get }
}

enum EnterpriseScope: QuickReplyScope { static var kind: ConfigKind { .quickReply } }
enum PersonalScope: QuickReplyScope { static var kind: ConfigKind { .personalQuickReply } }

typealias EnterpriseQuickReply = QuickReplyDocument<EnterpriseScope>
typealias PersonalQuickReply = QuickReplyDocument<PersonalScope>

/// A quick reply an agent inserts into a conversation, stored as a `Scope.kind` item.
struct QuickReplyDocument<Scope: QuickReplyScope>: ReceptionDocument {
    static var kind: ConfigKind { Scope.kind }
    var reply: QuickReply

    init(from decoder: any Decoder) throws { reply = try QuickReply(from: decoder) }
    func encode(to encoder: any Encoder) throws { try reply.encode(to: encoder) }

    mutating func check(_ c: inout DocumentCheck) {
        c.text(&reply.category, "category", length: 1...30)
        c.text(&reply.title, "title", length: 1...30)
        c.text(&reply.text, "text", length: 1...1000)
    }

    /// `?category=`
    static func listFilter(_ request: Request) throws -> (@Sendable (Self) -> Bool)? {
        guard let category = request.uri.queryParameters["category"].map(String.init) else { return nil }
        return { $0.reply.category == category }
    }
}
