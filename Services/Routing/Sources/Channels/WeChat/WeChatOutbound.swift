import Foundation
import KefuCore
import KefuModels
import KefuReceptionClient
import Logging

/// An official account's conversation messages to the follower, through WeChat's
/// customer-service message API (`/cgi-bin/message/custom/send`), called by the outbound
/// consumer in event order.
///
/// - Sent: recorded `sent`.
/// - Refused for good (45015: the follower wrote more than 48 hours ago; 45047: too many
///   messages since; any other WeChat error after the one token refresh): recorded `failed`
///   with the code and WeChat's reason, and published as `channel.message_failed`, which the
///   agent's workbench shows. Never retried: a loop would only be refused again.
/// - WeChat unreachable (network, 5xx): thrown, so the consumer retries the batch with backoff
///   and its cursor stays before the message. A crash between WeChat's acceptance and the
///   record sends the message again (at least once).
struct WeChatOutbound: Sendable {
    let api: WeChatAPI
    let reception: ReceptionDirectory
    let logger: Logger

    func send(_ message: MessageCreated, to target: ChannelOutbound.Target, tenant: TenantID) async throws {
        let database = api.database
        let done = try await database.withTenant(tenant) { tx in
            try await !tx.query("SELECT 1 FROM routing.channel_deliveries WHERE message_id = \(message.messageId)").collect().isEmpty
        }
        guard !done else { return }
        let outcome: (status: String, code: Int?, reason: String?)
        if let gateway = try await reception.channelGateway(target.channel, tenant: tenant), gateway.enabled,
           let appID = gateway.credentials["app_id"], let secret = gateway.credentials["app_secret"] {
            let snapshot = try await reception.snapshot(for: tenant)
            do {
                _ = try await api.post(
                    "/cgi-bin/message/custom/send", json: Self.customerServiceMessage(message.body, to: target.externalID, snapshot: snapshot),
                    tenant: tenant, appID: appID, secret: secret
                )
                outcome = ("sent", nil, nil)
            } catch let refused as WeChatAPI.Refused {
                outcome = ("failed", refused.code, Self.reason(refused))
            }
        } else {
            outcome = ("failed", nil, "the official account is switched off or gone")
        }
        try await database.withTenant(tenant) { tx in
            let inserted = try await tx.query("""
                INSERT INTO routing.channel_deliveries (tenant_id, message_id, conversation_id, channel_id, channel_type, status, error_code, reason)
                VALUES (\(tenant.uuid), \(message.messageId), \(target.conversation), \(target.channel), \(target.type.rawValue),
                        \(outcome.status), \(outcome.code), \(outcome.reason))
                ON CONFLICT DO NOTHING RETURNING 1
                """).collect()
            guard !inserted.isEmpty, outcome.status == "failed" else { return }
            try await tx.publish(ChannelMessageFailed(
                conversationId: message.conversationId, messageId: message.messageId, channelId: target.channel,
                errorCode: outcome.code, reason: outcome.reason ?? "", failedAt: Date()
            ))
        }
        if outcome.status == "failed" {
            logger.warning("wechat refused a message", metadata: ["code": "\(outcome.code ?? -1)", "reason": "\(outcome.reason ?? "")"])
        }
    }

    static func reason(_ refused: WeChatAPI.Refused) -> String {
        switch refused.code {
        case 45015: "outside the 48-hour window: the follower has not written for more than 48 hours (45015)"
        case 45047: "over the customer-service message quota for this follower (45047)"
        default: "WeChat refused the message: \(refused.code) \(refused.message)"
        }
    }

    /// The customer-service message JSON for a conversation message. Images and files go as a
    /// link (a WeChat image message needs a media id uploaded first); rich messages as news.
    static func customerServiceMessage(_ body: MessageBody, to openID: String, snapshot: ReceptionSnapshot) -> [String: Any] {
        switch body.type {
        case .text:
            return ["touser": openID, "msgtype": "text", "text": ["content": body.text ?? ""]]
        case .image, .file:
            return ["touser": openID, "msgtype": "text", "text": ["content": [body.name, body.url].compactMap { $0 }.joined(separator: " ")]]
        case .rich:
            var articles = body.articles ?? []
            if articles.isEmpty, let material = body.materialId, let found = snapshot.materials.first(where: { $0.id == material }) {
                articles = found.document.content.articles ?? []
                if articles.isEmpty {
                    return ["touser": openID, "msgtype": "text", "text": ["content": found.document.content.text ?? found.document.title]]
                }
            }
            return ["touser": openID, "msgtype": "news", "news": ["articles": articles.prefix(8).map { article -> [String: Any] in
                var item: [String: Any] = ["title": article.title, "url": article.url]
                if let description = article.description { item["description"] = description }
                if let image = article.imageUrl { item["picurl"] = image }
                return item
            }]]
        }
    }
}
