import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    public static let requestID = HTTPField.Name("X-Request-Id")!
}

/// Outermost middleware: takes the caller's `X-Request-Id` (if sane) or makes one, puts it in
/// the logger metadata, and echoes it on every response, errors included.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = KefuRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.accept) ?? UUID().uuidString.lowercased()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = "\(requestID)"
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.requestID] = requestID
        return response
    }

    /// Up to 128 visible ASCII characters: anything else could forge log lines.
    static func accept(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return value
    }
}
