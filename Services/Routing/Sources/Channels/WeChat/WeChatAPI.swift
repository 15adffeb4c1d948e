import AsyncHTTPClient
import Foundation
import KefuCore
import KefuModels
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// WeChat's server API as routing uses it: access tokens, customer-service messages, menus.
/// The base URL is a setting (`KEFU_WECHAT_API_BASE_URL`, default WeChat's own), so tests run a
/// local stand-in of WeChat's servers.
///
/// **One access token per app, shared by every replica** (`routing.wechat_tokens`): WeChat
/// invalidates an app's previous token whenever a new one is fetched, so replicas fetching
/// their own would keep breaking each other's. A token is refreshed before it expires (when it
/// has less than `refreshMargin` left) under a transaction lock on the app, so one replica asks
/// WeChat and the others wait for and use its answer.
struct WeChatAPI: Sendable {
    let baseURL: String
    let database: Database
    /// Refresh a token this long before WeChat says it expires.
    var refreshMargin: TimeInterval = 300
    let timeout: TimeAmount = .seconds(10)

    /// WeChat's answer when it is not a success: `errcode` and `errmsg`.
    struct Refused: Error { let code: Int; let message: String }
    /// WeChat could not be asked (network, 5xx, a body that is not its JSON): worth retrying.
    struct Unreachable: Error { let detail: String }

    /// Token errors after which a fresh token is fetched and the call made once more.
    static let tokenErrors: Set<Int> = [40001, 40014, 42001]

    /// The app's current token. `stale`: a token WeChat just refused (40001/40014/42001); unless
    /// another replica already replaced it, a new one is fetched.
    func accessToken(tenant: TenantID, appID: String, secret: String, stale: String? = nil) async throws -> String {
        try await database.withTenant(tenant) { tx in
            try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('wechat_token ' || \(tenant.uuid)::text || \(appID), 0))")
            let current = try await tx.query("""
                SELECT access_token, expires_at > now() + make_interval(secs => \(refreshMargin)) FROM routing.wechat_tokens WHERE app_id = \(appID)
                """).collect().first.map { try $0.decode((String, Bool).self) }
            if let (token, fresh) = current, fresh, token != stale { return token }
            let answer = try await call(
                .GET, "/cgi-bin/token?grant_type=client_credential&appid=\(Self.escape(appID))&secret=\(Self.escape(secret))", body: nil
            )
            guard let token = answer["access_token"] as? String, let expiresIn = answer["expires_in"] as? Int else {
                throw Refused(code: answer["errcode"] as? Int ?? -1, message: answer["errmsg"] as? String ?? "no access_token in the answer")
            }
            try await tx.query("""
                INSERT INTO routing.wechat_tokens (tenant_id, app_id, access_token, expires_at)
                VALUES (\(tenant.uuid), \(appID), \(token), now() + make_interval(secs => \(expiresIn)))
                ON CONFLICT (tenant_id, app_id) DO UPDATE SET access_token = excluded.access_token, expires_at = excluded.expires_at, refreshed_at = now()
                """)
            return token
        }
    }

    /// POSTs `body` to an access-token API (`path?access_token=`); a token error refreshes the
    /// token once and retries once. Returns WeChat's JSON when `errcode` is 0, else `Refused`.
    func post(_ path: String, json body: [String: Any], tenant: TenantID, appID: String, secret: String) async throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: body, options: [.withoutEscapingSlashes])
        var token = try await accessToken(tenant: tenant, appID: appID, secret: secret)
        var refreshed = false
        while true {
            let answer = try await call(.POST, "\(path)?access_token=\(Self.escape(token))", body: data)
            let code = answer["errcode"] as? Int ?? 0
            if code == 0 { return answer }
            if Self.tokenErrors.contains(code), !refreshed {
                refreshed = true
                token = try await accessToken(tenant: tenant, appID: appID, secret: secret, stale: token)
                continue
            }
            throw Refused(code: code, message: answer["errmsg"] as? String ?? "")
        }
    }

    private func call(_ method: HTTPMethod, _ path: String, body: Data?) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw Unreachable(detail: String(describing: error))
        }
        guard response.status.code / 100 == 2,
              let json = try? JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any]
        else { throw Unreachable(detail: "HTTP \(response.status.code)") }
        return json
    }

    static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }
}
