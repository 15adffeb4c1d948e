import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `POST /v1/channels/{channel_id}/wechat-menu/publish`: the official account's custom menu, as
/// reception holds it (`/v1/channels/{id}/auto-reply`), published to WeChat (`menu/create`).
/// Checked first against WeChat's limits — 1 to 3 buttons, 1 to 5 sub-buttons each, names of at
/// most 16 bytes (buttons) or 60 (sub-buttons), keys of 128 and URLs of 1024 — so a refusal
/// names the field rather than WeChat's error code. Reply and "connect to an agent" buttons
/// become `click` buttons keyed by position (`kefu_<i>[_<j>]`, which the callback reads back);
/// open-URL buttons `view` buttons.
struct WeChatMenuController {
    let routing: Routing
    let api: WeChatAPI

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/channels/{channel_id}/wechat-menu/publish", use: publish)
    }

    struct Published: ResponseEncodable {
        let published: Bool
        let buttons: Int
    }

    @Sendable func publish(request: Request, context: KefuRequestContext) async throws -> Published {
        let tenant = try context.requirePermission(.receptionChannels).tenantID
        let id = try context.parameters.uuid("channel_id", what: "channel")
        let (snapshot, _) = try await routing.channel(id, type: .wechatOfficialAccount, tenant: tenant)
        let menu = snapshot.autoReplies.first { $0.channelId == id }?.autoReply.menu ?? []
        let buttons = try Self.wechatMenu(menu)
        guard let gateway = try await routing.reception.channelGateway(id, tenant: tenant),
              let appID = gateway.credentials["app_id"], let secret = gateway.credentials["app_secret"]
        else { throw Problem.notFound("channel") }
        do {
            _ = try await api.post("/cgi-bin/menu/create", json: ["button": buttons], tenant: tenant, appID: appID, secret: secret)
        } catch let refused as WeChatAPI.Refused {
            throw Problem(.badGateway, code: "wechat_refused", detail: "WeChat refused the menu: \(refused.code) \(refused.message)")
        } catch is WeChatAPI.Unreachable {
            throw Problem(.badGateway, code: "wechat_unreachable", detail: "WeChat could not be reached; try again.", headers: [.retryAfter: "5"])
        }
        return Published(published: true, buttons: buttons.count)
    }

    /// WeChat's `button` array for the menu, or 422 naming each field over WeChat's limits.
    static func wechatMenu(_ menu: [MenuItem]) throws -> [[String: Any]] {
        var v = Validation()
        v.check((1...3).contains(menu.count), "menu", "WeChat takes 1 to 3 buttons")
        func leaf(_ item: MenuItem, _ field: String, key: String, nameBytes: Int) -> [String: Any] {
            v.check(item.name.utf8.count <= nameBytes, "\(field).name", "WeChat takes at most \(nameBytes) bytes (UTF-8)")
            switch item.action {
            case .openUrl?:
                v.check((item.url ?? "").utf8.count <= 1024, "\(field).url", "WeChat takes at most 1024 bytes")
                return ["type": "view", "name": item.name, "url": item.url ?? ""]
            default:
                v.check(key.utf8.count <= 128, "\(field).key", "WeChat takes at most 128 bytes")
                return ["type": "click", "name": item.name, "key": key]
            }
        }
        var buttons: [[String: Any]] = []
        for (i, item) in menu.enumerated() {
            let field = "menu[\(i)]"
            if let subItems = item.subItems {
                v.check((1...5).contains(subItems.count), "\(field).sub_items", "WeChat takes 1 to 5 sub-buttons")
                v.check(item.name.utf8.count <= 16, "\(field).name", "WeChat takes at most 16 bytes (UTF-8)")
                let subs = subItems.enumerated().map { j, sub in leaf(sub, "\(field).sub_items[\(j)]", key: "kefu_\(i)_\(j)", nameBytes: 60) }
                buttons.append(["name": item.name, "sub_button": subs])
            } else {
                buttons.append(leaf(item, field, key: "kefu_\(i)", nameBytes: 16))
            }
        }
        try v.throwIfInvalid()
        return buttons
    }
}

extension WeChatAPI {
    /// WeChat's API at `KEFU_WECHAT_API_BASE_URL` (default https://api.weixin.qq.com).
    init(routing: Routing) {
        let base = routing.resources.config.environment["KEFU_WECHAT_API_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(baseURL: base ?? "https://api.weixin.qq.com", database: routing.database)
    }
}
