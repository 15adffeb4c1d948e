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

    public init(
        _ status: HTTPResponse.Status, code: String, title: String? = nil, detail: String? = nil,
        fieldErrors: [FieldError] = [], headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(
            type: "urn:kefu:problem:\(code)", title: title, status: Int(status.code), detail: detail,
            code: code, instance: request.uri.path, errors: fieldErrors.isEmpty ? nil : fieldErrors
        )
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(
            status: status, headers: headers,
            body: .init(byteBuffer: ByteBuffer(data: try KefuJSON.encoder().encode(body)))
        )
    }

    struct Body: Codable {
        let type: String
        let title: String
        let status: Int
        let detail: String?
        let code: String
        let instance: String
        let errors: [FieldError]?
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
