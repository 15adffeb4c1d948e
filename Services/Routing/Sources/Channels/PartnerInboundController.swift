import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `POST /v1/channels/{channel_id}/inbound/messages`: a partner channel's user writes. The
/// partner authenticates with an API key holding `reception.channels` (exchanged at accounts'
/// `POST /v1/auth/api-key-token` for an access token, which every service verifies with
/// accounts' public key: no call to accounts per message). The partner's user id is the channel
/// user (a visitor, a customer identity `partner` within the channel); `client_message_id`
/// makes retries store once, across conversations (a retry after the conversation ended still
/// answers the first message, 200).
struct PartnerInboundController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/channels/{channel_id}/inbound/messages", use: receive)
    }

    struct InboundRequest: Decodable {
        let userId: String
        let clientMessageId: String
        let body: MessageBody
        /// What else the partner knows its user as (a phone, an email, a unionid, a QQ number).
        let identities: [ChannelUserIdentity]?
    }

    /// At most this many identities per message.
    static let maxIdentities = 10

    /// The identities as the customer library keeps them: trimmed, emails lowercased, each once.
    static func identities(_ given: [ChannelUserIdentity], _ v: inout Validation) -> [ChannelUserIdentity] {
        v.check(given.count <= maxIdentities, "identities", "must list at most \(maxIdentities)", code: "too_many")
        var result: [ChannelUserIdentity] = []
        for (index, identity) in given.prefix(maxIdentities).enumerated() {
            guard ChannelUserIdentity.kinds.contains(identity.kind) else {
                v.add("identities[\(index)].kind", "must be one of \(ChannelUserIdentity.kinds.sorted().joined(separator: ", "))", code: "invalid_choice")
                continue
            }
            guard let external = v.text(identity.externalId, "identities[\(index)].external_id", length: 1...200) else { continue }
            let kept = ChannelUserIdentity(kind: identity.kind, externalId: identity.kind == "email" ? external.lowercased() : external)
            if !result.contains(kept) { result.append(kept) }
        }
        return result
    }

    struct InboundResponse: ResponseEncodable {
        let conversation: ConversationView
        let message: MessageView
    }

    @Sendable func receive(request: Request, context: KefuRequestContext) async throws -> Response {
        let principal = try context.requirePermission(.receptionChannels)
        guard case .apiKey = principal.subject else {
            throw Problem(.forbidden, code: "api_key_required", detail: "Partner channels take messages from the partner's API key.")
        }
        let tenant = principal.tenantID
        let id = try context.parameters.uuid("channel_id", what: "channel")
        let input = try await request.decode(as: InboundRequest.self, context: context)
        var v = Validation()
        let user = v.text(input.userId, "user_id", length: 1...200)
        let identities = Self.identities(input.identities ?? [], &v)
        try v.throwIfInvalid()
        let client = try MessagePage.clientID(input.clientMessageId)!
        let body = try input.body.validated()
        let (snapshot, channel) = try await routing.channel(id, type: .partner, tenant: tenant)
        guard channel.document.enabled else {
            throw Problem.conflict(code: "channel_disabled", detail: "This partner channel is switched off.")
        }
        let key = "message \(user!) \(client)"
        let (reply, created) = try await routing.database.withTenant(tenant) { tx -> (InboundResponse, Bool) in
            let (visitor, _) = try await tx.channelUser(channel: id, type: .partner, externalID: user!, identities: identities)
            if let seen = try await tx.inboundSeen(channel: id, key: key), let message = seen.message, let conversation = seen.conversation,
               let stored = try await tx.messages(where: "conversation_id = \(conversation) AND id = \(message)").first,
               let view = try await tx.conversation(conversation, withTrace: false) {
                return (InboundResponse(conversation: view, message: stored), false)
            }
            let (conversation, _) = try await tx.channelConversation(visitor: visitor, channel: channel, snapshot: snapshot)
            let (message, _) = try await tx.append(
                NewMessage(sender: .visitor, senderID: nil, clientMessageID: client, body: body), to: conversation.id, visitor: visitor.uuid
            )
            try await tx.recordInbound(channel: id, key: key, message: message.id, conversation: conversation.id, reply: nil)
            return (InboundResponse(conversation: try await tx.conversation(conversation.id, withTrace: false)!, message: message), true)
        }
        return try EditedResponse(status: created ? .created : .ok, response: reply).response(from: request, context: context)
    }
}
