import Foundation
import HTTPTypes
import KefuModels
import Hummingbird

/// An RFC 9457 `application/problem+json` error with a stable machine-readable `code` and, for
/// validation failures, one entry per offending field. The only way routes report errors.
public struct Problem: Error, HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// Stable, snake_case: clients branch on it, so it never changes once shipped.
    public var code: String
    public var title: String
    public var detail: String?
    public var fieldErrors: [FieldError]
    public var headers: HTTPFields
    /// RFC 9457 extension members a client acts on (`merged_into` of a merged customer), beside
    /// the standard ones; never overriding them.
    public var extensions: [String: String]

    public init(
        _ status: HTTPResponse.Status, code: String, title: String? = nil, detail: String? = nil,
        fieldErrors: [FieldError] = [], headers: HTTPFields = [:], extensions: [String: String] = [:]
    ) {
        self.status = status
        self.code = code
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.headers = headers
        self.extensions = extensions
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(
            type: "urn:kefu:problem:\(code)", title: title, status: Int(status.code), detail: detail,
            code: code, instance: request.uri.path, errors: fieldErrors.isEmpty ? nil : fieldErrors,
            extensions: extensions.isEmpty ? nil : extensions
        )
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(
            status: status, headers: headers,
            body: .init(byteBuffer: ByteBuffer(data: try KefuJSON.encoder().encode(body)))
        )
    }

    struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String?
        let code: String
        let instance: String
        let errors: [FieldError]?
        let extensions: [String: String]?

        enum CodingKeys: String, CodingKey { case type, title, status, detail, code, instance, errors }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(title, forKey: .title)
            try container.encode(status, forKey: .status)
            try container.encodeIfPresent(detail, forKey: .detail)
            try container.encode(code, forKey: .code)
            try container.encode(instance, forKey: .instance)
            try container.encodeIfPresent(errors, forKey: .errors)
            var members = encoder.container(keyedBy: MemberKey.self)
            for (key, value) in extensions ?? [:] where CodingKeys(stringValue: key) == nil {
                try members.encode(value, forKey: MemberKey(key))
            }
        }
    }

    struct MemberKey: CodingKey {
        let stringValue: String
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

/// One invalid field: `field` is its JSON path (`admin.account`, `items[2].name`).
public struct FieldError: Codable, Sendable, Equatable {
    public var field: String
    public var code: String
    public var message: String

    public init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }
}

extension Problem {
    public static func unauthorized(_ detail: String = "Sign in or send a valid API key.") -> Problem {
        Problem(.unauthorized, code: "unauthorized", detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }

    public static func forbidden(missing permission: String) -> Problem {
        Problem(.forbidden, code: "permission_denied", detail: "This needs the permission \(permission).")
    }

    /// Also the answer for records of other tenants or outside the caller's data scope: never
    /// reveal that they exist.
    public static func notFound(_ what: String = "resource") -> Problem {
        Problem(.notFound, code: "not_found", detail: "No such \(what).")
    }

    public static func conflict(code: String, detail: String) -> Problem {
        Problem(.conflict, code: code, detail: detail)
    }

    public static func validation(_ errors: [FieldError]) -> Problem {
        Problem(
            .unprocessableContent, code: "validation_failed",
            detail: errors.map { "\($0.field): \($0.message)" }.joined(separator: "; "),
            fieldErrors: errors
        )
    }

    public static func invalid(_ field: String, _ message: String, code: String = "invalid") -> Problem {
        validation([FieldError(field: field, code: code, message: message)])
    }

    public static func badRequest(code: String, detail: String) -> Problem {
        Problem(.badRequest, code: code, detail: detail)
    }
}

extension Problem {
    /// Invalid rule conditions as a 422 naming each offending path (`conditions[2].op`).
    public static func invalid(_ conditions: InvalidConditions) -> Problem {
        validation(conditions.issues.map { FieldError(field: $0.path, code: $0.code, message: $0.message) })
    }
}
