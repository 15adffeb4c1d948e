import AsyncHTTPClient
import Foundation
import KefuCore
import KefuModels
import Logging
import NIOCore

/// Sends one-time codes. Pluggable: a webhook to the SMS gateway in production, the log in
/// development.
public protocol SMSSender: Sendable {
    func send(tenant: TenantID, phone: String, message: String) async throws
}

/// Development: writes the message to the log instead of a phone.
public struct LogSMSSender: SMSSender {
    let logger: Logger

    public func send(tenant: TenantID, phone: String, message: String) async throws {
        logger.notice("SMS (development sender: not sent)", metadata: ["tenant": "\(tenant)", "phone": "\(phone)", "sms": "\(message)"])
    }
}

/// POSTs `{"tenant_id", "phone", "message"}` as JSON to the gateway; any 2xx is success.
public struct WebhookSMSSender: SMSSender {
    let url: String
    let logger: Logger

    struct Body: Encodable {
        let tenantId: TenantID
        let phone: String
        let message: String
    }

    public func send(tenant: TenantID, phone: String, message: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try KefuJSON.encoder().encode(Body(tenantId: tenant, phone: phone, message: message))))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        guard (200..<300).contains(response.status.code) else {
            throw Problem(.badGateway, code: "sms_gateway_failed", detail: "The SMS gateway answered \(response.status.code).")
        }
    }
}
