import Foundation
import KefuCore
import KefuModels

/// Keeps `routing.agents` (and the department tree) in step with accounts' events (durable: nothing is missed
/// while routing is down; replays change nothing). A disabled or deleted employee goes offline
/// and their open conversations are placed again; a business handover moves them to the receiver.
struct AgentProjection {
    let routing: Routing

    static let eventTypes: Set<String> = [
        EmployeeCreated.eventType, EmployeeUpdated.eventType, EmployeeStatusChanged.eventType,
        EmployeeBusinessTransferred.eventType, DepartmentChanged.eventType,
    ]

    func handle(_ event: StoredEvent) async throws {
        // Only moving conversations needs reception's groups.
        let snapshot = [EmployeeStatusChanged.eventType, EmployeeBusinessTransferred.eventType].contains(event.type)
            ? try await routing.reception.snapshot(for: event.tenantID) : nil
        try await routing.database.withTenant(event.tenantID) { tx in
            switch event.type {
            case EmployeeCreated.eventType:
                try await tx.saveAgent(try event.decode(EmployeeCreated.self).employee)
            case EmployeeUpdated.eventType:
                try await tx.saveAgent(try event.decode(EmployeeUpdated.self).employee)
            case EmployeeStatusChanged.eventType:
                let employee = try event.decode(EmployeeStatusChanged.self).employee
                try await tx.saveAgent(employee)
                if employee.status != "active", let snapshot {
                    try await tx.setAgentState(employee.employeeId.uuid, status: .offline, reception: nil)
                    try await ConversationPlacer(snapshot: snapshot).replaceAll(of: employee.employeeId.uuid, with: nil, in: tx)
                }
            case EmployeeBusinessTransferred.eventType:
                let handover = try event.decode(EmployeeBusinessTransferred.self)
                if let snapshot {
                    try await ConversationPlacer(snapshot: snapshot).replaceAll(of: handover.fromEmployeeId.uuid, with: handover.toEmployeeId.uuid, in: tx)
                }
            case DepartmentChanged.eventType:
                let department = try event.decode(DepartmentChanged.self)
                if department.exists {
                    try await tx.query("""
                        INSERT INTO routing.departments (tenant_id, id, parent_id) VALUES (\(tx.tenantID.uuid), \(department.departmentId), \(department.parentId))
                        ON CONFLICT (tenant_id, id) DO UPDATE SET parent_id = excluded.parent_id
                        """)
                } else {
                    try await tx.query("DELETE FROM routing.departments WHERE id = \(department.departmentId)")
                }
            default:
                break
            }
        }
    }
}

extension TenantTransaction {
    func saveAgent(_ employee: EmployeeSnapshot) async throws {
        try await query("""
            INSERT INTO routing.agents (tenant_id, employee_id, display_name, department_id, active)
            VALUES (\(tenantID.uuid), \(employee.employeeId.uuid), \(employee.displayName), \(employee.departmentId), \(employee.status == "active"))
            ON CONFLICT (tenant_id, employee_id) DO UPDATE
            SET display_name = excluded.display_name, department_id = excluded.department_id, active = excluded.active
            """)
    }
}
