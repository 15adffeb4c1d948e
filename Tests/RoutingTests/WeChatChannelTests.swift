import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
import NIOCore
import PostgresNIO
@testable import Routing
import Testing

/// WeChat official accounts: the callback's signatures and safe mode, passive replies, duplicates,
/// conversations with agents, and the customer-service API (against `WeChatStandIn`).
/// `scripts/channels-e2e.py` plays WeChat with `wechatpy` against the executables.
@Suite struct WeChatChannelTests {
    static let aesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    static let rotatedKey = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"

    @Test func weChatsPublishedSignatureVector() throws {
        let crypto = try WeChatCrypto(token: "AAAAA", appID: "wx0", encodingAESKeys: [Self.aesKey])
        #expect(crypto.signature(timestamp: "1714036504", nonce: "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696")
        #expect(WeChatCrypto.matches("F464B24FC39322E44B38AA78F5EDD27BD1441696", "f464b24fc39322e44b38aa78f5edd27bd1441696"))
        #expect(!WeChatCrypto.matches("f464b24fc39322e44b38aa78f5edd27bd1441697", "f464b24fc39322e44b38aa78f5edd27bd1441696"))
    }

    @Test func safeModeRoundTripsAndRefusesWrongKeysAppIDsAndPadding() throws {
        let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Content><![CDATA[你好 ]]]]><![CDATA[> world]]></Content></xml>"
        let old = try WeChatCrypto(token: "t", appID: "wxapp", encodingAESKeys: [Self.aesKey])
        let sealed = try old.encrypt(xml, with: old.keys[0])
        #expect(try old.decrypt(sealed).0 == xml)
        #expect(try WeChatXML.parse(xml)["Content"] == "你好 ]]> world")
        // During a rotation the previous key still opens what WeChat sealed with it.
        let rotating = try WeChatCrypto(token: "t", appID: "wxapp", encodingAESKeys: [Self.rotatedKey, Self.aesKey])
        #expect(try rotating.decrypt(sealed).0 == xml)
        let rotated = try WeChatCrypto(token: "t", appID: "wxapp", encodingAESKeys: [Self.rotatedKey])
        #expect(throws: WeChatCrypto.Failure.self) { try rotated.decrypt(sealed) }
        let otherApp = try WeChatCrypto(token: "t", appID: "wxother", encodingAESKeys: [Self.aesKey])
        #expect(throws: WeChatCrypto.Failure.wrongAppID) { try otherApp.decrypt(sealed) }
        // A corrupted last block no longer ends in valid PKCS#7 padding (or decodes to garbage).
        var bytes = [UInt8](Data(base64Encoded: sealed)!)
        bytes[bytes.count - 1] ^= 0x5A
        #expect(throws: WeChatCrypto.Failure.self) { try old.decrypt(Data(bytes).base64EncodedString()) }
        #expect(throws: WeChatCrypto.Failure.badCiphertext) { try old.decrypt("not base64!") }
        #expect(throws: WeChatCrypto.Failure.badKey) { try WeChatCrypto(token: "t", appID: "a", encodingAESKeys: ["short"]) }
    }

    @Test func menusAreCheckedAgainstWeChatsLimits() throws {
        let ok = try WeChatMenuController.wechatMenu([
            MenuItem(name: "人工客服", action: .connectAgent),
            MenuItem(name: "More", subItems: [MenuItem(name: "Site", action: .openUrl, url: "https://shop.example")]),
        ])
        #expect(ok.count == 2)
        #expect(ok[0]["type"] as? String == "click" && ok[0]["key"] as? String == "kefu_0")
        #expect((ok[1]["sub_button"] as? [[String: Any]])?.first?["type"] as? String == "view")
        do {
            _ = try WeChatMenuController.wechatMenu([MenuItem(name: "一二三四五六", action: .connectAgent)])
            Issue.record("18 bytes passed WeChat's 16")
        } catch let problem as Problem {
            #expect(problem.fieldErrors.map(\.field) == ["menu[0].name"])
        }
        #expect(throws: Problem.self) { try WeChatMenuController.wechatMenu([]) }
    }

    actor Flag {
        var set = false
        func raise() { set = true }
    }

    /// WeChat waits 5 seconds: slower work answers `success` at the deadline and still finishes.
    @Test func aSlowAnswerIsSuccessAtTheDeadlineAndTheWorkGoesOn() async throws {
        let finished = Flag()
        // The work finishes only when the test lets it, after the answer: no race with the clock.
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let answer = try await Deadline.answer(within: .milliseconds(100), otherwise: "success") {
            for await _ in gate { break }
            await finished.raise()
            return "late reply"
        }
        #expect(answer == "success")
        #expect(await finished.set == false)
        open.yield(())
        var waited = 0
        while await !finished.set, waited < 200 { try await Task.sleep(for: .milliseconds(50)); waited += 1 }
        #expect(await finished.set, "the work went on after the answer")
        #expect(try await Deadline.answer(within: .seconds(30), otherwise: "success") { "reply" } == "reply")
    }

    /// Replicas share one token per app: concurrent callers (separate connections, as replicas
    /// are) make WeChat issue one; a refused token is replaced once, however many see it refused.
    @Test func concurrentCallersShareOneAccessTokenAndReplaceARefusedOneOnce() async throws {
        let standIn = try await WeChatStandIn.baseURL.value
        try await TestEnvironment.withDatabase { database in
            let api = WeChatAPI(baseURL: standIn, database: database)
            let tenant = TenantID()
            let appID = "wxrace" + UUID().uuidString.prefix(8)
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<12 { group.addTask { try await api.accessToken(tenant: tenant, appID: appID, secret: "secret-\(appID)") } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(tokens.count == 1)
            #expect(WeChatStandIn.with(appID) { $0.issued } == 1)
            let stale = tokens.first!
            let fresh = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<12 { group.addTask { try await api.accessToken(tenant: tenant, appID: appID, secret: "secret-\(appID)", stale: stale) } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(fresh.count == 1 && !fresh.contains(stale))
            #expect(WeChatStandIn.with(appID) { $0.issued } == 2, "one refresh for twelve callers")
        }
    }

    // MARK: Over HTTP

    struct Account: Sendable {
        let id: String
        let appID: String
        let token: String
    }

    func officialAccount(_ h: RoutingHarness, _ tenant: RoutingHarness.Tenant, token: String = "tok" + UUID().uuidString.prefix(8), autoReply: [String: Any]? = nil) async throws -> Account {
        let appID = "wx" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let created = try await h.reception.call(.post, "/v1/channels", token: tenant.admin, json: [
            "name": "OA" + UUID().uuidString.prefix(6), "type": "wechat_official_account", "enabled": true,
            "credentials": ["app_id": appID, "app_secret": "secret-\(appID)", "token": token, "encoding_aes_key": Self.aesKey],
        ])
        try #require(created.status == .created, "\(created.text)")
        if let autoReply {
            let put = try await h.reception.call(.put, "/v1/channels/\(created.id!)/auto-reply", token: tenant.admin, json: autoReply)
            try #require(put.status == .ok, "\(put.text)")
        }
        return Account(id: created.id!, appID: appID, token: token)
    }

    /// Signs and posts a plain-mode message as WeChat does; returns the status and the body.
    func deliver(_ h: RoutingHarness, _ account: Account, _ fields: [WeChatXML.Field], token: String? = nil) async throws -> (HTTPResponse.Status, String) {
        let timestamp = String(Int(Date().timeIntervalSince1970)), nonce = String(Int.random(in: 100_000...999_999))
        let crypto = try WeChatCrypto(token: token ?? account.token, appID: account.appID, encodingAESKeys: [Self.aesKey])
        let uri = "/v1/wechat/\(account.id)?signature=\(crypto.signature(timestamp: timestamp, nonce: nonce))&timestamp=\(timestamp)&nonce=\(nonce)&openid=x"
        return try await h.routing.execute(
            uri: uri, method: .post, headers: [.contentType: "text/xml"], body: ByteBuffer(string: WeChatXML.build(fields))
        ) { ($0.status, String(buffer: $0.body)) }
    }

    func text(_ content: String, from openID: String, id: Int, to account: String = "gh_account") -> [WeChatXML.Field] {
        [.text("ToUserName", account), .text("FromUserName", openID), .number("CreateTime", Int(Date().timeIntervalSince1970)),
         .text("MsgType", "text"), .text("Content", content), .number("MsgId", id)]
    }

    func event(_ name: String, from openID: String, key: String? = nil, at time: Int = Int(Date().timeIntervalSince1970)) -> [WeChatXML.Field] {
        [.text("ToUserName", "gh_account"), .text("FromUserName", openID), .number("CreateTime", time), .text("MsgType", "event"),
         .text("Event", name)] + (key.map { [.text("EventKey", $0)] } ?? [])
    }

    func count(_ sql: String) async throws -> Int {
        try await TestEnvironment.ownerQuery(PostgresQuery(unsafeSQL: sql), as: Int.self).first ?? -1
    }

    @Test func urlVerificationKeywordRepliesAndDuplicatesAnsweredOnce() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let account = try await officialAccount(h, tenant, token: "AAAAA", autoReply: [
                "keyword_replies": [["keyword": "price", "match": "contains", "reply": ["type": "text", "text": "Prices start at 9 yuan"]]],
                "message_reply": ["type": "text", "text": "An agent will answer soon"], "menu": [[String: Any]](),
            ])
            // WeChat's published vector, through the callback.
            let verified = try await h.routing.call(.get, "/v1/wechat/\(account.id)?signature=f464b24fc39322e44b38aa78f5edd27bd1441696&timestamp=1714036504&nonce=1514711492&echostr=8761943")
            #expect(verified.status == .ok)
            #expect(verified.text == "8761943")
            let forged = try await h.routing.call(.get, "/v1/wechat/\(account.id)?signature=f464b24fc39322e44b38aa78f5edd27bd1441697&timestamp=1714036504&nonce=1514711492&echostr=1")
            #expect(forged.status == .unauthorized)
            #expect(try await h.routing.call(.get, "/v1/wechat/\(UUID())?signature=x&timestamp=1&nonce=1&echostr=1").status == .notFound)

            let openID = "o" + UUID().uuidString.prefix(12)
            let (status, reply) = try await deliver(h, account, text("What's the price?", from: openID, id: 1001))
            #expect(status == .ok)
            let fields = try WeChatXML.parse(reply)
            #expect(fields["ToUserName"] == openID && fields["FromUserName"] == "gh_account", "To and From swapped")
            #expect(fields["MsgType"] == "text" && fields["Content"] == "Prices start at 9 yuan")
            // WeChat retries the same MsgId: the same answer, handled once.
            let (_, again) = try await deliver(h, account, text("What's the price?", from: openID, id: 1001))
            #expect(again == reply)
            #expect(try await count("SELECT count(*)::int FROM routing.channel_inbound WHERE tenant_id = '\(tenant.id)' AND dedupe_key = 'msg 1001'") == 1)
            // No keyword: the message reply; no conversation (the account does not send those to agents).
            let (_, other) = try await deliver(h, account, text("hello", from: openID, id: 1002))
            #expect(try WeChatXML.parse(other)["Content"] == "An agent will answer soon")
            #expect(try await count("SELECT count(*)::int FROM routing.conversations WHERE tenant_id = '\(tenant.id)'") == 0)

            // A wrong signature is refused and creates nothing.
            let stranger = "o" + UUID().uuidString.prefix(12)
            let (refused, _) = try await deliver(h, account, text("hi", from: stranger, id: 1003), token: "not-the-token")
            #expect(refused == .unauthorized)
            #expect(try await count("SELECT count(*)::int FROM routing.channel_users WHERE external_id = '\(stranger)'") == 0)

            // Subscribing makes the follower a channel user (the customer library's contact), once.
            let follower = "o" + UUID().uuidString.prefix(12)
            let time = Int(Date().timeIntervalSince1970)
            #expect(try await deliver(h, account, event("subscribe", from: follower, at: time)).1 == "success")
            #expect(try await deliver(h, account, event("subscribe", from: follower, at: time)).1 == "success")
            #expect(try await count("SELECT count(*)::int FROM kefu.events WHERE tenant_id = '\(tenant.id)' AND type = 'channel_user.seen' AND payload->>'external_id' = '\(follower)'") == 1)
            #expect(try await count("SELECT count(*)::int FROM routing.channel_inbound WHERE tenant_id = '\(tenant.id)' AND dedupe_key LIKE 'event \(follower) %'") == 1)
            _ = try await deliver(h, account, event("unsubscribe", from: follower))
            #expect(try await count("SELECT count(*)::int FROM routing.channel_users WHERE external_id = '\(follower)' AND NOT subscribed") == 1)
        }
    }

    @Test func aCallbackForOneTenantsAccountNeverTouchesAnothers() async throws {
        try await RoutingHarness.run { h in
            let a = try await h.tenant(), b = try await h.tenant()
            let mine = try await officialAccount(h, a)
            let theirs = try await officialAccount(h, b)
            // Signed with tenant A's token, addressed to tenant B's account: refused.
            let forged = Account(id: theirs.id, appID: theirs.appID, token: mine.token)
            let (status, _) = try await deliver(h, forged, text("hi", from: "o-cross", id: 7))
            #expect(status == .unauthorized)
            #expect(try await count("SELECT count(*)::int FROM routing.channel_users WHERE tenant_id IN ('\(a.id)', '\(b.id)')") == 0)
            // Tenant A's own delivery lands in tenant A only.
            #expect(try await deliver(h, mine, event("subscribe", from: "o-cross")).0 == .ok)
            #expect(try await count("SELECT count(*)::int FROM routing.channel_users WHERE tenant_id = '\(a.id)'") == 1)
            #expect(try await count("SELECT count(*)::int FROM routing.channel_users WHERE tenant_id = '\(b.id)'") == 0)
        }
    }

    @Test func connectToAnAgentAndTheirAnswersGoOutThroughTheCustomerServiceAPI() async throws {
        // Every routing test replica talks to the stand-in (RoutingHarness).
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            _ = try await h.groupWidget(in: tenant, members: [agent])
            try await h.online(agent)
            let account = try await officialAccount(h, tenant, autoReply: [
                "keyword_replies": [[String: Any]](), "menu": [["name": "人工客服", "action": "connect_agent"]],
            ])
            // The menu goes to WeChat as a click button keyed by position.
            let published = try await h.routing.call(.post, "/v1/channels/\(account.id)/wechat-menu/publish", token: tenant.admin)
            #expect(published.status == .ok, "\(published.text)")
            let menus = WeChatStandIn.with(account.appID) { $0.menus }
            #expect(((menus.first?["button"] as? [[String: Any]])?.first?["key"] as? String) == "kefu_0")

            let follower = "o" + UUID().uuidString.prefix(12)
            let click = event("CLICK", from: follower, key: "kefu_0")
            #expect(try await deliver(h, account, click).1 == "success")
            _ = try await deliver(h, account, click)  // WeChat's retry: one click all the same.
            #expect(try await deliver(h, account, event("VIEW", from: follower, key: "https://shop.example/")).1 == "success")
            let clicks = try await TestEnvironment.ownerQuery("""
                SELECT concat_ws(' ', payload->>'key', payload->>'name') FROM kefu.events
                WHERE tenant_id = \(tenant.id.uuid) AND type = 'visitor.menu_clicked'
                """, as: String.self)
            #expect(clicks.sorted() == ["kefu_0 人工客服", "https://shop.example/"].sorted(), "each press once; a link has no name")
            let conversations = try await h.routing.call(.get, "/v1/conversations?view=active", token: agent.token)
            let conversation = try #require(conversations.data.first?["id"] as? String)
            #expect(conversations.data.first?["channel"] as? String == "wechat_official_account")
            _ = try await deliver(h, account, text("My order is late", from: follower, id: 2001))
            let page = try await h.routing.call(.get, "/v1/conversations/\(conversation)/messages", token: agent.token)
            #expect(page.data.map { ($0["body"] as? [String: Any])?["text"] as? String } == ["My order is late"])

            func answer(_ text: String) async throws {
                let sent = try await h.routing.call(.post, "/v1/conversations/\(conversation)/messages", token: agent.token, json: [
                    "client_message_id": UUID().uuidString, "body": ["type": "text", "text": text],
                ])
                try #require(sent.status == .created, "\(sent.text)")
            }
            func deliveries() async throws -> [[String: Any]] {
                try await h.routing.call(.get, "/v1/conversations/\(conversation)/channel-deliveries", token: agent.token).data
            }
            try await answer("Let me check")
            #expect(try await h.eventually { try await deliveries().count == 1 })
            let sends = WeChatStandIn.with(account.appID) { $0.sends }
            #expect(sends.count == 1)
            #expect(sends.first?["touser"] as? String == follower)
            #expect((sends.first?["text"] as? [String: Any])?["content"] as? String == "Let me check")

            // The token expired (42001): refreshed once, the message sent once more, and it arrives.
            WeChatStandIn.with(account.appID) { $0.refusals = [42001] }
            try await answer("Found it")
            #expect(try await h.eventually { try await deliveries().count == 2 })
            #expect(try await deliveries().map { $0["status"] as? String } == ["sent", "sent"])
            #expect(WeChatStandIn.with(account.appID) { ($0.issued, $0.sends.count) } == (2, 3))

            // Outside the 48-hour window (45015): the agent sees a failed message, and it is never retried.
            WeChatStandIn.with(account.appID) { $0.refuseAlways = 45015 }
            try await answer("Anything else?")
            #expect(try await h.eventually { try await deliveries().count == 3 })
            let failed = try await deliveries().last!
            #expect(failed["status"] as? String == "failed")
            #expect(failed["error_code"] as? Int == 45015)
            #expect((failed["reason"] as? String)?.contains("48-hour") == true)
            #expect(try await count("SELECT count(*)::int FROM kefu.events WHERE tenant_id = '\(tenant.id)' AND type = 'channel.message_failed'") == 1)
            try await Task.sleep(for: .seconds(1))
            #expect(WeChatStandIn.with(account.appID) { $0.sends.count } == 4, "one attempt, no loop")
        }
    }
}
