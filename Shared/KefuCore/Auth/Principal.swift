import Foundation
import KefuModels

/// Who is calling, within which tenant, with what they may do and which records they reach.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    public enum Subject: Sendable, Hashable {
        case employee(EmployeeID)
        case apiKey(ApiKeyID)
    }

    public let tenantID: TenantID
    public let subject: Subject
    public let permissions: Set<Permission>
    public let dataScopes: DataScopes
    /// The sign-in session an employee token belongs to.
    public let sessionID: UUID?
    /// The employee's department, for "my department and below".
    public let departmentID: UUID?
    /// When the credential was issued: revocations cut off credentials issued before them.
    public let issuedAt: Date

    public init(
        tenantID: TenantID, subject: Subject, permissions: Set<Permission>, dataScopes: DataScopes,
        sessionID: UUID? = nil, departmentID: UUID? = nil, issuedAt: Date = Date()
    ) {
        self.tenantID = tenantID
        self.subject = subject
        self.permissions = permissions
        self.dataScopes = dataScopes
        self.sessionID = sessionID
        self.departmentID = departmentID
        self.issuedAt = issuedAt
    }

    public func has(_ permission: Permission) -> Bool { permissions.contains(permission) }

    public var employeeID: EmployeeID? {
        if case .employee(let id) = subject { id } else { nil }
    }

    public var description: String {
        switch subject {
        case .employee(let id): "employee:\(id)@\(tenantID)"
        case .apiKey(let id): "api_key:\(id)@\(tenantID)"
        }
    }
}

extension KefuRequestContext {
    /// Passes only for the platform operator (`KEFU_PLATFORM_TOKEN`), else 401.
    public func requirePlatformOperator() throws {
        guard isPlatformOperator else { throw Problem.unauthorized("This needs the platform token.") }
    }

    /// The authenticated principal, or 401.
    public func requireAuthentication() throws -> Principal {
        guard let principal else { throw Problem.unauthorized() }
        return principal
    }

    /// The principal if it holds `permission`: 401 without credentials, 403 without the permission.
    /// Every protected route starts with this.
    @discardableResult
    public func requirePermission(_ permission: Permission) throws -> Principal {
        let principal = try requireAuthentication()
        guard principal.has(permission) else { throw Problem.forbidden(missing: permission.rawValue) }
        return principal
    }
}
