import Foundation
import Hummingbird

/// Decodes JSON request bodies with the Kefu conventions and turns every decoding failure into a
/// 422 naming the field (or a 400/415 when the body is not JSON at all).
public struct KefuRequestDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        if let contentType = request.headers[.contentType], !contentType.lowercased().contains("json") {
            throw Problem(.unsupportedMediaType, code: "unsupported_media_type", detail: "Send the body as application/json.")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let data = Data(buffer: buffer)
        if let field = NULCharacter.field(in: data) {
            throw Problem.invalid(field, "must not contain the NUL character (U+0000)", code: "invalid_characters")
        }
        do {
            return try KefuJSON.decoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Self.problem(for: error)
        }
    }

    static func problem(for error: DecodingError) -> Problem {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalid(path(context.codingPath + [key]), "is required", code: "required")
        case .typeMismatch(let type, let context):
            return .invalid(path(context.codingPath), "must be \(describe(type))", code: "wrong_type")
        case .valueNotFound(let type, let context):
            return .invalid(path(context.codingPath), "must be \(describe(type)), not null", code: "required")
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .badRequest(code: "malformed_json", detail: "The body is not valid JSON.")
        case .dataCorrupted(let context):
            return .invalid(path(context.codingPath), context.debugDescription)
        @unknown default:
            return .badRequest(code: "malformed_json", detail: "The body could not be read.")
        }
    }

    /// `[admin, displayName]` → `admin.display_name`; array indexes → `items[2]`.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var path = ""
        for key in codingPath {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += (path.isEmpty ? "" : ".") + snakeCase(key.stringValue)
            }
        }
        return path.isEmpty ? "body" : path
    }

    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                if !result.isEmpty { result += "_" }
                result += character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Date.Type: "an RFC 3339 date-time"
        case is UUID.Type: "a UUID"
        default: "a \(type)".lowercased()
        }
    }
}
