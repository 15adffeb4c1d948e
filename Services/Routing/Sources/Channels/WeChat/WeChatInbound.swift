import Foundation
import KefuCore
import KefuModels

/// One message or event an official account received, as WeChat's XML gives it.
struct WeChatInbound: Sendable {
    let follower: String
    let account: String
    let createTime: Int
    let type: String
    let fields: [String: String]

    init?(_ fields: [String: String]) {
        guard let follower = fields["FromUserName"], !follower.isEmpty, follower.count <= 200, let account = fields["ToUserName"],
              let created = fields["CreateTime"].flatMap(Int.init), let type = fields["MsgType"] else { return nil }
        self.follower = follower
        self.account = account
        self.createTime = created
        self.type = type
        self.fields = fields
    }

    var event: String? { type == "event" ? fields["Event"].map { $0.lowercased() } : nil }

    /// Messages carry a MsgId; events do not, and are told apart by sender and CreateTime (WeChat's own advice).
    var dedupeKey: String {
        if let id = fields["MsgId"], !id.isEmpty { return "msg \(id)" }
        return "event \(follower) \(createTime) \(fields["Event"] ?? "")"
    }

    /// The conversation message a follower's message becomes (nil for what is not one).
    var messageBody: MessageBody? {
        switch type {
        case "text": fields["Content"].map { MessageBody.text(String($0.prefix(5000))) }
        case "image": fields["PicUrl"].map { MessageBody(type: .image, url: $0) }
        case "location":
            MessageBody.text("[location] \(fields["Label"] ?? "") (\(fields["Location_X"] ?? "?"), \(fields["Location_Y"] ?? "?"))")
        default: nil
        }
    }
}

/// What an official account does with a verified delivery, in the tenant's transaction:
/// - subscribe: the follower becomes a channel user (a contact with the openid identity);
///   unsubscribe marks them so;
/// - a message while the follower has a live conversation: stored in it, for the agent;
/// - otherwise: the first matching keyword reply, answered passively; else, when the account is
///   so configured (`unmatched_to_agent`), a conversation is opened with the message; else the
///   message reply, if any;
/// - menu CLICK: the button's reply, or "connect to an agent" opening (or continuing) a
///   conversation; VIEW (a link) needs no answer; both publish `visitor.menu_clicked`; location
///   reports need no answer.
/// The delivery's dedupe row is written with its effect, so a repeat finds it and gets the same answer.
struct WeChatInboundHandler: Sendable {
    let routing: Routing

    /// The passive reply XML (plain), or nil for `success`.
    func handle(_ inbound: WeChatInbound, channel: ConfigItem<Channel>, tenant: TenantID) async throws -> String? {
        let snapshot = try await routing.reception.snapshot(for: tenant)
        let autoReply = snapshot.autoReplies.first { $0.channelId == channel.id }?.autoReply ?? ChannelAutoReply()
        return try await routing.database.withTenant(tenant) { tx -> String? in
            let (visitor, _) = try await tx.channelUser(channel: channel.id, type: .wechatOfficialAccount, externalID: inbound.follower)
            let key = inbound.dedupeKey
            if let seen = try await tx.inboundSeen(channel: channel.id, key: key) { return seen.reply }
            func passive(_ content: MessageContent?) -> String? {
                content.flatMap { WeChatReplies.xml($0, to: inbound.follower, from: inbound.account, snapshot: snapshot) }
            }
            var stored: (message: UUID?, conversation: UUID?) = (nil, nil)
            var reply: String?
            func converse(_ body: MessageBody?) async throws {
                let (conversation, _) = try await tx.channelConversation(visitor: visitor, channel: channel, snapshot: snapshot)
                stored.conversation = conversation.id
                if let body {
                    let client = String(key.replacingOccurrences(of: " ", with: ":").prefix(64))
                    let (message, _) = try await tx.append(
                        NewMessage(sender: .visitor, senderID: nil, clientMessageID: client, body: body), to: conversation.id, visitor: visitor.uuid
                    )
                    stored.message = message.id
                }
            }
            // Once per delivery (a repeat returned above): the customer trail's menu clicks.
            func publishClick(_ name: String?) async throws {
                guard let key = inbound.fields["EventKey"], !key.isEmpty else { return }
                try await tx.publish(VisitorMenuClicked(visitorId: visitor, channelId: channel.id, key: String(key.prefix(1000)), name: name, clickedAt: Date()))
            }
            switch inbound.event {
            case "subscribe"?:
                try await tx.query("UPDATE routing.channel_users SET subscribed = true WHERE channel_id = \(channel.id) AND external_id = \(inbound.follower)")
            case "unsubscribe"?:
                try await tx.query("UPDATE routing.channel_users SET subscribed = false WHERE channel_id = \(channel.id) AND external_id = \(inbound.follower)")
            case "click"?:
                let item = inbound.fields["EventKey"].flatMap { WeChatReplies.menuItem(key: $0, in: autoReply.menu) }
                try await publishClick(item?.name)
                switch item?.action {
                case .reply?: reply = passive(item?.reply)
                case .connectAgent?: try await converse(nil)
                default: break
                }
            case "view"?:
                try await publishClick(nil)  // A link: WeChat opens it, nothing to answer.
            case .some:
                break  // LOCATION reports and other events need no answer.
            case nil:
                guard let body = inbound.messageBody else { break }
                let live = try await tx.conversations(where: "c.visitor_id = \(visitor.uuid) AND c.status <> 'ended'", withTrace: false).first
                if live != nil {
                    try await converse(body)
                } else if inbound.type == "text", let matched = WeChatReplies.keyword(body.text ?? "", in: autoReply) {
                    reply = passive(matched)
                } else if autoReply.unmatchedToAgent {
                    try await converse(body)
                    reply = passive(autoReply.messageReply)
                } else {
                    reply = passive(autoReply.messageReply)
                }
            }
            try await tx.recordInbound(channel: channel.id, key: key, message: stored.message, conversation: stored.conversation, reply: reply)
            return reply
        }
    }
}
