import Foundation
import KefuModels
import Synchronization

/// Credentials ended before they expire, as learnt from the credential events. Access tokens
/// are verified without asking accounts; this list is what makes revocation immediate.
///
/// Each process replays the events of the last access-token lifetime when it starts (anything
/// older concerns tokens that have expired anyway) and then follows new ones.
public final class RevocationList: Sendable {
    struct State {
        var suspendedTenants: Set<TenantID> = []
        var employeeCutoffs: [EmployeeID: Date] = [:]
        var sessions: Set<UUID> = []
        var apiKeys: Set<ApiKeyID> = []
    }

    private let state = Mutex(State())

    public init() {}

    public static let eventTypes: Set<String> = [
        TenantSuspended.eventType, TenantReactivated.eventType, EmployeeCredentialsRevoked.eventType,
        SessionRevoked.eventType, ApiKeyRevoked.eventType,
    ]

    public func apply(_ event: StoredEvent) throws {
        switch event.type {
        case TenantSuspended.eventType:
            let id = try event.decode(TenantSuspended.self).tenantId
            state.withLock { _ = $0.suspendedTenants.insert(id) }
        case TenantReactivated.eventType:
            let id = try event.decode(TenantReactivated.self).tenantId
            state.withLock { _ = $0.suspendedTenants.remove(id) }
        case EmployeeCredentialsRevoked.eventType:
            let revoked = try event.decode(EmployeeCredentialsRevoked.self)
            state.withLock { state in
                state.employeeCutoffs[revoked.employeeId] = max(state.employeeCutoffs[revoked.employeeId] ?? .distantPast, revoked.revokedAt)
            }
        case SessionRevoked.eventType:
            let id = try event.decode(SessionRevoked.self).sessionId
            state.withLock { _ = $0.sessions.insert(id) }
        case ApiKeyRevoked.eventType:
            let id = try event.decode(ApiKeyRevoked.self).apiKeyId
            state.withLock { _ = $0.apiKeys.insert(id) }
        default:
            break
        }
    }

    public func isRevoked(_ principal: Principal) -> Bool {
        state.withLock { state in
            if state.suspendedTenants.contains(principal.tenantID) { return true }
            switch principal.subject {
            case .employee(let id):
                if let cutoff = state.employeeCutoffs[id], principal.issuedAt <= cutoff { return true }
                if let session = principal.sessionID, state.sessions.contains(session) { return true }
                return false
            case .apiKey(let id):
                return state.apiKeys.contains(id)
            }
        }
    }
}
