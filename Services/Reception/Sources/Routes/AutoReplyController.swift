import Foundation
import Hummingbird
import KefuCore
import KefuModels

extension ChannelAutoReply: ResponseEncodable {}

/// `/v1/channels/{id}/auto-reply`: an official account's keyword replies, message reply and
/// custom menu, read and replaced as one document.
struct AutoReplyController {
    let reception: Reception

    static func key(_ channel: UUID) -> String { "auto_reply:\(channel.uuidString.lowercased())" }

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/channels/{id}/auto-reply", use: show)
        router.put("/v1/channels/{id}/auto-reply", use: replace)
    }

    /// The channel, which must be an official account.
    func officialAccount(_ id: UUID, in tx: TenantTransaction) async throws {
        guard let channel = try await tx.item(.channel, as: Channel.self, id: id) else { throw Problem.notFound("channel") }
        guard channel.document.type == .wechatOfficialAccount else {
            throw Problem.conflict(code: "not_official_account", detail: "Auto-replies and menus belong to WeChat official accounts.")
        }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> ChannelAutoReply {
        let tenant = try context.requirePermission(.receptionChannels).tenantID
        let id = try context.parameters.uuid(what: "channel")
        return try await reception.database.withTenant(tenant) { tx in
            try await officialAccount(id, in: tx)
            return try await tx.setting(Self.key(id), as: ChannelAutoReply.self)?.0 ?? ChannelAutoReply()
        }
    }

    @Sendable func replace(request: Request, context: KefuRequestContext) async throws -> ChannelAutoReply {
        let tenant = try context.requirePermission(.receptionChannels).tenantID
        let id = try context.parameters.uuid(what: "channel")
        let input = try await request.decode(as: ChannelAutoReply.self, context: context)
        let actor = AuditActor(context: context)
        return try await reception.database.withTenant(tenant) { tx in
            try await officialAccount(id, in: tx)
            var document = input
            var check = DocumentCheck(catalogue: FieldCatalogue(FieldCatalogue.builtIn))
            document.check(&check)
            try await check.verify(in: tx)
            let before = try await tx.setting(Self.key(id), as: ChannelAutoReply.self)?.0 ?? ChannelAutoReply()
            try await tx.saveSetting(Self.key(id), document)
            try await tx.configChanged("auto_reply", id: id, action: "updated", by: actor, before: before, after: document)
            return document
        }
    }
}

extension ChannelAutoReply {
    /// WeChat's own limits: 3 menu buttons of up to 5 sub-items; keywords are matched first to last.
    mutating func check(_ c: inout DocumentCheck) {
        c.count(keywordReplies.count, "keyword_replies", 0...200)
        for index in keywordReplies.indices {
            c.text(&keywordReplies[index].keyword, "keyword_replies[\(index)].keyword", length: 1...30)
            c.message(&keywordReplies[index].reply, "keyword_replies[\(index)].reply")
        }
        if messageReply != nil { c.message(&messageReply!, "message_reply") }
        c.count(menu.count, "menu", 0...3)
        for index in menu.indices {
            menu[index].check(&c, "menu[\(index)]", nameLength: 1...8, allowSubItems: true)
        }
    }
}

extension MenuItem {
    mutating func check(_ c: inout DocumentCheck, _ field: String, nameLength: ClosedRange<Int>, allowSubItems: Bool) {
        c.text(&name, "\(field).name", length: nameLength)
        if let subItems, allowSubItems {
            c.count(subItems.count, "\(field).sub_items", 1...5)
            c.check(action == nil && reply == nil && url == nil, "\(field).action", "a button with sub-items has no action of its own")
            for index in subItems.indices {
                self.subItems![index].check(&c, "\(field).sub_items[\(index)]", nameLength: 1...30, allowSubItems: false)
            }
            return
        }
        c.check(subItems == nil, "\(field).sub_items", "sub-items have no sub-items")
        guard let action else { return c.add("\(field).action", "is required", code: "required") }
        c.check((reply != nil) == (action == .reply), "\(field).reply", action == .reply ? "is required for a reply button" : "is only for reply buttons")
        c.check((url != nil) == (action == .openUrl), "\(field).url", action == .openUrl ? "is required for an open_url button" : "is only for open_url buttons")
        if reply != nil { c.message(&reply!, "\(field).reply") }
        if action == .openUrl { c.url(url, "\(field).url") }
    }
}
