import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A local stand-in of WeChat's API servers (`KEFU_WECHAT_API_BASE_URL` points routing at it):
/// access tokens, customer-service messages and menus, per app id, each app's state its own so
/// tests running at once never meet. Like the webhook receiver, one server lives as long as the
/// test process. It keeps WeChat's rules that matter here: a new token invalidates the previous
/// one (40001 for a stale token), and refusals can be scripted (42001 once, 45015 always).
final class WeChatStandIn: Sendable {
    struct App {
        var issued = 0
        var current: String?
        var sends: [[String: Any]] = []
        var menus: [[String: Any]] = []
        /// Errcodes the next sends answer, in order (then success).
        var refusals: [Int] = []
        /// Every send answers this (45015: outside the 48-hour window).
        var refuseAlways: Int?
    }
    nonisolated(unsafe) private static var apps: [String: App] = [:]
    private static let lock = NSLock()

    static func with<T>(_ appID: String, _ body: (inout App) -> T) -> T {
        lock.withLock {
            var app = apps[appID] ?? App()
            defer { apps[appID] = app }
            return body(&app)
        }
    }

    static func appID(holding token: String) -> String? {
        lock.withLock { apps.first { $0.value.current == token }?.key ?? apps.first { token.hasPrefix("tok-\($0.key)-") }?.key }
    }

    static func json(_ object: [String: Any]) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: object)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    /// The app a token was issued to, and whether it is still the app's current one.
    static func authorised(_ request: Request) -> (String, Bool)? {
        guard let token = request.uri.queryParameters["access_token"].map(String.init), let appID = appID(holding: token) else { return nil }
        return (appID, with(appID) { $0.current == token })
    }

    /// The server's base URL, started on first use.
    static let baseURL = Task<String, any Error> {
        let router = Router()
        router.get("/cgi-bin/token") { request, _ -> Response in
            let appID = request.uri.queryParameters["appid"].map(String.init) ?? ""
            guard request.uri.queryParameters["secret"] == "secret-\(appID)" else { return json(["errcode": 40125, "errmsg": "invalid appsecret"]) }
            let token = with(appID) { app -> String in
                app.issued += 1
                app.current = "tok-\(appID)-\(app.issued)"
                return app.current!
            }
            return json(["access_token": token, "expires_in": 7200])
        }
        router.post("/cgi-bin/message/custom/send") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let (appID, fresh) = authorised(request) else { return json(["errcode": 40001, "errmsg": "invalid credential"]) }
            guard fresh else { return json(["errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"]) }
            let message = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            let code = with(appID) { app -> Int in
                app.sends.append(message)
                if let always = app.refuseAlways { return always }
                return app.refusals.isEmpty ? 0 : app.refusals.removeFirst()
            }
            return json(["errcode": code, "errmsg": code == 0 ? "ok" : "refused"])
        }
        router.post("/cgi-bin/menu/create") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let (appID, fresh) = authorised(request), fresh else { return json(["errcode": 40001, "errmsg": "invalid credential"]) }
            let menu = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            with(appID) { $0.menus.append(menu) }
            return json(["errcode": 0, "errmsg": "ok"])
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "wechat-stand-in")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger
        )
        Task.detached { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw CancellationError() }
        return "http://127.0.0.1:\(port)"
    }
}
