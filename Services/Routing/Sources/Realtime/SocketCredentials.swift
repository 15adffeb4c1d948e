import Foundation
import HTTPTypes
import KefuCore
import KefuModels

/// Who may open a socket. Browsers cannot set headers on a WebSocket, so the token may come as
/// `?access_token=` (employees) or `?visitor_token=` (visitors) as well as `Authorization:
/// Bearer`. The same check answers the upgrade and the plain GET (which says 401 or 426).
struct SocketCredentials {
    enum Path: String {
        case employee = "/v1/socket"
        case visitor = "/v1/visitor/socket"
    }

    let resources: ServiceResources
    let visitorTokens: VisitorTokens

    /// The path (without its query) and query items of a request target.
    static func split(_ target: String) -> (path: String, query: [String: String]) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for item in URLComponents(string: "?" + parts[1])?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        }
        return (String(parts[0]), query)
    }

    /// The peer and when its credential stops being valid (a socket does not outlive it).
    func authenticate(_ path: Path, query: [String: String], authorization: String?) async throws -> (SocketPeer, expires: Date) {
        var bearer: String?
        if let authorization {
            guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
                throw Problem.unauthorized("Use the Bearer scheme.")
            }
            bearer = String(authorization.dropFirst(7))
        }
        switch path {
        case .visitor:
            guard let token = bearer ?? query["visitor_token"], let claims = visitorTokens.verify(token) else {
                throw Problem.unauthorized("Send the visitor token (visitor_token=… or Authorization: Bearer).")
            }
            return (.visitor(claims.tid, claims.vid), Date(timeIntervalSince1970: Double(claims.exp)))
        case .employee:
            guard let token = bearer ?? query["access_token"], !token.hasPrefix(VisitorTokens.prefix) else {
                throw Problem.unauthorized("Send an access token (access_token=… or Authorization: Bearer).")
            }
            let principal = try await resources.tokenVerifier.verify(token)
            guard !resources.revocations.isRevoked(principal) else {
                throw Problem.unauthorized("The credential was revoked. Sign in again.")
            }
            guard let employee = principal.employeeID else { throw Problem.unauthorized("Sockets are for employees; sign in.") }
            guard principal.has(.clientLogin) || principal.has(.analyticsMonitoring) else {
                throw Problem.forbidden(missing: Permission.clientLogin.rawValue)
            }
            let lifetime = resources.config.accessTokenLifetime.components.seconds
            return (.employee(principal, employee), principal.issuedAt.addingTimeInterval(Double(lifetime)))
        }
    }

    /// Why an open socket's credential no longer holds (revoked since, or expired), if it does not.
    func lapsed(_ peer: SocketPeer, expires: Date) -> String? {
        if case .employee(let principal, _) = peer, resources.revocations.isRevoked(principal) { return "credentials revoked" }
        return Date() >= expires ? "credentials expired; reconnect with a fresh token and resume" : nil
    }
}
