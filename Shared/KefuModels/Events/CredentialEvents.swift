import Foundation

// Events that end credentials before they expire. Every service applies them to its revocation
// list, so that a suspended tenant, a disabled employee, a logged-out session or a revoked API
// key stops working everywhere at once, not when its access token expires.

public struct TenantSuspended: KefuEvent {
    public static let eventType = "tenant.suspended"
    public let tenantId: TenantID
    public init(tenantId: TenantID) { self.tenantId = tenantId }
}

public struct TenantReactivated: KefuEvent {
    public static let eventType = "tenant.reactivated"
    public let tenantId: TenantID
    public init(tenantId: TenantID) { self.tenantId = tenantId }
}

/// Every credential of the employee issued before `revokedAt` stops working (disabled, deleted,
/// password reset by an admin).
public struct EmployeeCredentialsRevoked: KefuEvent {
    public static let eventType = "employee.credentials_revoked"
    public let employeeId: EmployeeID
    public let reason: String
    public let revokedAt: Date
    public init(employeeId: EmployeeID, reason: String, revokedAt: Date) {
        self.employeeId = employeeId
        self.reason = reason
        self.revokedAt = revokedAt
    }
}

/// One sign-in session (a refresh-token family and its access tokens) ended: logout, or a
/// rotated refresh token presented again.
public struct SessionRevoked: KefuEvent {
    public static let eventType = "auth.session_revoked"
    public let employeeId: EmployeeID
    @LowercaseUUID public var sessionId: UUID
    public init(employeeId: EmployeeID, sessionId: UUID) {
        self.employeeId = employeeId
        self.sessionId = sessionId
    }
}

public struct ApiKeyRevoked: KefuEvent {
    public static let eventType = "api_key.revoked"
    public let apiKeyId: ApiKeyID
    public init(apiKeyId: ApiKeyID) { self.apiKeyId = apiKeyId }
}

/// The employee's password changed (by themselves, an admin reset or a phone reset). It revokes
/// nothing by itself: the revocations that go with it are their own events.
public struct EmployeePasswordChanged: KefuEvent {
    public static let eventType = "employee.password_changed"
    public let employeeId: EmployeeID
    public let changedAt: Date
    public init(employeeId: EmployeeID, changedAt: Date) {
        self.employeeId = employeeId
        self.changedAt = changedAt
    }
}
