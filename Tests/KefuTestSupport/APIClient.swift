import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

/// A service's answer as the tests read it: status, headers, and the JSON body picked apart.
public struct APIReply: Sendable {
    public let status: HTTPResponse.Status
    public let headers: HTTPFields
    public let body: Data

    public init(status: HTTPResponse.Status, headers: HTTPFields, body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// A problem's `code`.
    public var code: String? { json["code"] as? String }
    public var id: String? { json["id"] as? String }
    /// A list's `data`.
    public var data: [[String: Any]] { json["data"] as? [[String: Any]] ?? [] }
    /// The fields a 422 names.
    public var fields: [String] { (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String } }
    public func string(_ key: String) -> String? { json[key] as? String }
}

extension TestClientProtocol {
    /// One request as a client sends it: a bearer token, a JSON body.
    @discardableResult
    public func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: Any? = nil, headers extra: HTTPFields = [:]
    ) async throws -> APIReply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body) { response in
            APIReply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }
}
