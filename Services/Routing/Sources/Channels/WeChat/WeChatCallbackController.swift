import Crypto
import Foundation
import Hummingbird
import KefuCore
import KefuModels
import NIOCore
import Synchronization

/// `GET/POST /v1/wechat/{channel_id}`: the official account's server URL as configured in
/// WeChat's console. Anonymous (WeChat signs, it does not authenticate): the channel id names
/// the tenant through reception's door, and the account's token (and EncodingAESKey in safe
/// mode) must check out before anything is read, so a forged, re-addressed or corrupted
/// delivery is refused and creates nothing.
///
/// - GET: URL verification — `signature` over token, timestamp and nonce; `echostr` echoed.
/// - POST: a message or event, plain or in safe mode (`encrypt_type=aes`, `msg_signature`).
///   A repeated delivery (same MsgId, or for events the same sender and CreateTime) gets the
///   first one's answer and changes nothing. WeChat waits 5 seconds: the answer is whatever is
///   ready within `answerWithin` (4 s), else `success`, and the work goes on (a retry of it
///   waits for it through the follower's lock and gets its answer).
struct WeChatCallbackController {
    let routing: Routing
    /// `KEFU_WECHAT_ANSWER_WITHIN_MS` (4000: WeChat waits 5 s).
    let answerWithin: Duration

    init(routing: Routing) {
        self.routing = routing
        let milliseconds = routing.resources.config.environment["KEFU_WECHAT_ANSWER_WITHIN_MS"].flatMap(Int.init) ?? 4000
        self.answerWithin = .milliseconds(max(milliseconds, 100))
    }

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/wechat/{channel_id}", use: verify)
        router.post("/v1/wechat/{channel_id}", use: receive)
    }

    /// The tenant, channel and crypto of the account the callback names; 404 when no tenant has it.
    func account(_ context: KefuRequestContext) async throws -> (TenantID, ConfigItem<KefuModels.Channel>, WeChatCrypto) {
        let id = try context.parameters.uuid("channel_id", what: "official account")
        guard let tenant = try await routing.reception.officialAccountTenant(id),
              let gateway = try await routing.reception.channelGateway(id, tenant: tenant), gateway.type == .wechatOfficialAccount,
              let token = gateway.credentials["token"], let appID = gateway.credentials["app_id"]
        else { throw Problem.notFound("official account") }
        let (_, channel) = try await routing.channel(id, type: .wechatOfficialAccount, tenant: tenant)
        let keys = [gateway.credentials["encoding_aes_key"], gateway.credentials["previous_encoding_aes_key"]].compactMap { $0 }
        return (tenant, channel, try WeChatCrypto(token: token, appID: appID, encodingAESKeys: keys))
    }

    static let badSignature = Problem(.unauthorized, code: "bad_signature", detail: "The WeChat signature does not match this account's token.")
    static func badMessage(_ detail: String) -> Problem { Problem(.badRequest, code: "bad_message", detail: detail) }

    @Sendable func verify(request: Request, context: KefuRequestContext) async throws -> Response {
        let (_, _, crypto) = try await account(context)
        let query = request.uri.queryParameters
        let timestamp = query["timestamp"].map(String.init) ?? "", nonce = query["nonce"].map(String.init) ?? ""
        guard WeChatCrypto.matches(query["signature"].map(String.init), crypto.signature(timestamp: timestamp, nonce: nonce)) else {
            throw Self.badSignature
        }
        return Self.text(query["echostr"].map(String.init) ?? "", type: "text/plain")
    }

    @Sendable func receive(request: Request, context: KefuRequestContext) async throws -> Response {
        let (tenant, channel, crypto) = try await account(context)
        let query = request.uri.queryParameters
        let timestamp = query["timestamp"].map(String.init) ?? "", nonce = query["nonce"].map(String.init) ?? ""
        let raw = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let safeMode = query["encrypt_type"] == "aes"
        let fields: [String: String]
        var replyKey: SymmetricKey?
        if safeMode {
            guard let envelope = try? WeChatXML.parse(raw), let encrypted = envelope["Encrypt"] else {
                throw Self.badMessage("A safe-mode message carries an Encrypt element.")
            }
            guard WeChatCrypto.matches(query["msg_signature"].map(String.init), crypto.messageSignature(timestamp: timestamp, nonce: nonce, encrypted: encrypted)) else {
                throw Self.badSignature
            }
            let xml: String, key: SymmetricKey
            do { (xml, key) = try crypto.decrypt(encrypted) } catch {
                throw Self.badMessage("The message does not decrypt for this account (\(error)).")
            }
            guard let inner = try? WeChatXML.parse(xml) else { throw Self.badMessage("The decrypted message is not WeChat XML.") }
            fields = inner
            replyKey = key
        } else {
            guard WeChatCrypto.matches(query["signature"].map(String.init), crypto.signature(timestamp: timestamp, nonce: nonce)) else {
                throw Self.badSignature
            }
            guard let plain = try? WeChatXML.parse(raw) else { throw Self.badMessage("The body is not WeChat XML.") }
            fields = plain
        }
        guard let inbound = WeChatInbound(fields) else { throw Self.badMessage("The message lacks FromUserName, ToUserName, CreateTime or MsgType.") }
        guard channel.document.enabled else { return Self.text("success") }
        let handler = WeChatInboundHandler(routing: routing)
        let reply: String? = try await Deadline.answer(within: answerWithin, otherwise: nil) {
            try await handler.handle(inbound, channel: channel, tenant: tenant)
        }
        guard let reply else { return Self.text("success") }
        guard let replyKey else { return Self.text(reply, type: "text/xml") }
        let sealed = try crypto.encrypt(reply, with: replyKey)
        let replyTimestamp = String(Int(Date().timeIntervalSince1970))
        let replyNonce = String(UInt32.random(in: 100_000_000...UInt32.max))
        return Self.text(WeChatXML.build([
            .text("Encrypt", sealed),
            .text("MsgSignature", crypto.messageSignature(timestamp: replyTimestamp, nonce: replyNonce, encrypted: sealed)),
            .raw("TimeStamp", replyTimestamp), .text("Nonce", replyNonce),
        ]), type: "text/xml")
    }

    static func text(_ body: String, type: String = "text/plain") -> Response {
        Response(status: .ok, headers: [.contentType: "\(type); charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Runs work and answers with its result if it is ready in time, else with `fallback` while the
/// work goes on to its end (WeChat gives up after 5 seconds and asks again).
enum Deadline {
    final class Once<T: Sendable>: Sendable {
        let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)
        func resume(_ result: Result<T, any Error>) {
            continuation.withLock { $0?.resume(with: result); $0 = nil }
        }
    }

    static func answer<T: Sendable>(within limit: Duration, otherwise fallback: T, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let once = Once<T>()
        return try await withCheckedThrowingContinuation { continuation in
            once.continuation.withLock { $0 = continuation }
            Task {
                do { once.resume(.success(try await work())) } catch { once.resume(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: limit)
                once.resume(.success(fallback))
            }
        }
    }
}
