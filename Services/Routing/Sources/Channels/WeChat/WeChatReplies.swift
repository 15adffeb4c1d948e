import Foundation
import KefuModels

/// What an official account answers on its own (passive replies, 被动回复): keyword replies
/// (first match wins), menu replies, and the message reply, from reception's auto-reply document.
enum WeChatReplies {
    /// The passive reply XML for reception's content, To/From swapped from the inbound message;
    /// nil for content WeChat cannot take passively (a material that is gone).
    static func xml(_ content: MessageContent, to follower: String, from account: String, snapshot: ReceptionSnapshot, now: Date = Date()) -> String? {
        var head: [WeChatXML.Field] = [
            .text("ToUserName", follower), .text("FromUserName", account), .number("CreateTime", Int(now.timeIntervalSince1970)),
        ]
        switch content.type {
        case .text:
            head += [.text("MsgType", "text"), .text("Content", content.text ?? "")]
        case .image:
            // A passive image reply needs a media id uploaded to WeChat first; the picture goes as a news card.
            head += news([RichArticle(title: " ", url: content.imageUrl ?? "", imageUrl: content.imageUrl)])
        case .rich:
            head += news(content.articles ?? [])
        case .material:
            guard let id = content.materialId, let material = snapshot.materials.first(where: { $0.id == id }) else { return nil }
            return xml(material.document.content, to: follower, from: account, snapshot: snapshot, now: now)
        }
        return WeChatXML.build(head)
    }

    static func news(_ articles: [RichArticle]) -> [WeChatXML.Field] {
        let items = articles.prefix(8).map { article in
            "<item>" + "<Title>\(WeChatXML.cdata(article.title))</Title>"
                + "<Description>\(WeChatXML.cdata(article.description ?? ""))</Description>"
                + "<PicUrl>\(WeChatXML.cdata(article.imageUrl ?? ""))</PicUrl>"
                + "<Url>\(WeChatXML.cdata(article.url))</Url>" + "</item>"
        }
        return [.text("MsgType", "news"), .number("ArticleCount", items.count), .raw("Articles", items.joined())]
    }

    /// The first keyword reply matching the text.
    static func keyword(_ text: String, in autoReply: ChannelAutoReply) -> MessageContent? {
        let folded = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return autoReply.keywordReplies.first { reply in
            let keyword = reply.keyword.lowercased()
            return reply.match == .exact ? folded == keyword : folded.contains(keyword)
        }?.reply
    }

    /// The menu button a CLICK's key names: `kefu_<i>` or `kefu_<i>_<j>` (the keys menu
    /// publishing gives the buttons, by position).
    static func menuItem(key: String, in menu: [MenuItem]) -> MenuItem? {
        let parts = key.split(separator: "_")
        guard parts.count >= 2, parts[0] == "kefu", let first = Int(parts[1]), menu.indices.contains(first) else { return nil }
        guard parts.count == 3 else { return parts.count == 2 ? menu[first] : nil }
        guard let second = Int(parts[2]), let sub = menu[first].subItems, sub.indices.contains(second) else { return nil }
        return sub[second]
    }
}
