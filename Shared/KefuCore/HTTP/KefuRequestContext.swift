import Foundation
import Hummingbird
import KefuModels
import NIOCore

/// What every Kefu route gets beside the request: the request id, the caller's address and, once
/// authenticated, the principal with its permissions and data scopes.
public struct KefuRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Echoed as `X-Request-Id`; set by `RequestIDMiddleware`.
    public var requestID: String
    /// The peer's address, for the audit log.
    public let remoteAddress: String?
    /// Set by `AuthenticationMiddleware` when the request carries valid credentials.
    public var principal: Principal? {
        didSet { caller.record(principal?.description) }
    }
    /// Set when the request carries `KEFU_PLATFORM_TOKEN`: the operator running this Kefu.
    public var isPlatformOperator: Bool {
        didSet { caller.record(isPlatformOperator ? "platform" : nil) }
    }
    /// The caller once authenticated, shared with the copies of this context that middleware
    /// outside authentication holds (the access log).
    public let caller = RequestCaller()
    /// A visitor's token (`kefu_vt.…`), left for the visitor routes (routing) to check.
    public var visitorCredential: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.principal = nil
        self.isPlatformOperator = false
        self.visitorCredential = nil
    }

    public var requestDecoder: KefuRequestDecoder { KefuRequestDecoder() }
    public var responseEncoder: JSONEncoder { KefuJSON.encoder() }
}
