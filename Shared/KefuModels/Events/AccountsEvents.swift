import Foundation

// Organisation events published by accounts for the other services (reception keeps groups
// consistent, customers and routing apply business handovers, analytics names agents).

public struct TenantCreated: KefuEvent {
    public static let eventType = "tenant.created"
    public let tenantId: TenantID
    public let slug: String
    public let name: String
    public let seatLimit: Int
    public init(tenantId: TenantID, slug: String, name: String, seatLimit: Int) {
        self.tenantId = tenantId
        self.slug = slug
        self.name = name
        self.seatLimit = seatLimit
    }
}

public struct TenantUpdated: KefuEvent {
    public static let eventType = "tenant.updated"
    public let tenantId: TenantID
    public let name: String
    public let seatLimit: Int
    public init(tenantId: TenantID, name: String, seatLimit: Int) {
        self.tenantId = tenantId
        self.name = name
        self.seatLimit = seatLimit
    }
}

/// What other services may keep about an employee.
public struct EmployeeSnapshot: Codable, Sendable, Equatable {
    public let employeeId: EmployeeID
    public let account: String
    public let displayName: String
    @LowercaseUUID public var departmentId: UUID?
    public let status: String
    public init(employeeId: EmployeeID, account: String, displayName: String, departmentId: UUID?, status: String) {
        self.employeeId = employeeId
        self.account = account
        self.displayName = displayName
        self.departmentId = departmentId
        self.status = status
    }
}

public struct EmployeeCreated: KefuEvent {
    public static let eventType = "employee.created"
    public let employee: EmployeeSnapshot
    public init(employee: EmployeeSnapshot) { self.employee = employee }
}

/// Profile or department changed.
public struct EmployeeUpdated: KefuEvent {
    public static let eventType = "employee.updated"
    public let employee: EmployeeSnapshot
    public init(employee: EmployeeSnapshot) { self.employee = employee }
}

/// Enabled, disabled or deleted: reception removes disabled and deleted agents from groups.
public struct EmployeeStatusChanged: KefuEvent {
    public static let eventType = "employee.status_changed"
    public let employee: EmployeeSnapshot
    public let previousStatus: String
    public init(employee: EmployeeSnapshot, previousStatus: String) {
        self.employee = employee
        self.previousStatus = previousStatus
    }
}

public struct EmployeeRolesChanged: KefuEvent {
    public static let eventType = "employee.roles_changed"
    public let employeeId: EmployeeID
    @LowercaseUUID public var roleIds: [UUID]
    public init(employeeId: EmployeeID, roleIds: [UUID]) {
        self.employeeId = employeeId
        self.roleIds = roleIds
    }
}

/// 业务交接: everything `fromEmployee` owns or handles goes to `toEmployee`. The customer library
/// moves owned customers and follow-ups; routing moves open conversations.
public struct EmployeeBusinessTransferred: KefuEvent {
    public static let eventType = "employee.business_transferred"
    @LowercaseUUID public var handoverId: UUID
    public let fromEmployeeId: EmployeeID
    public let toEmployeeId: EmployeeID
    public let note: String?
    public init(handoverId: UUID, fromEmployeeId: EmployeeID, toEmployeeId: EmployeeID, note: String?) {
        self.handoverId = handoverId
        self.fromEmployeeId = fromEmployeeId
        self.toEmployeeId = toEmployeeId
        self.note = note
    }
}

public struct DepartmentChanged: KefuEvent {
    public static let eventType = "department.changed"
    @LowercaseUUID public var departmentId: UUID
    public let name: String?
    @LowercaseUUID public var parentId: UUID?
    /// False when the department was deleted.
    public let exists: Bool
    public init(departmentId: UUID, name: String?, parentId: UUID?, exists: Bool) {
        self.departmentId = departmentId
        self.name = name
        self.parentId = parentId
        self.exists = exists
    }
}

public struct RoleChanged: KefuEvent {
    public static let eventType = "role.changed"
    @LowercaseUUID public var roleId: UUID
    public let name: String?
    public let permissions: [String]
    /// False when the role was deleted.
    public let exists: Bool
    public init(roleId: UUID, name: String?, permissions: [String], exists: Bool) {
        self.roleId = roleId
        self.name = name
        self.permissions = permissions
        self.exists = exists
    }
}
