import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Keeps `reception.agents` in step with the accounts events, and the configuration consistent
/// with it: a disabled or deleted employee leaves every group and agent target, and a business
/// handover gives the receiving employee the leaver's places. Durable: nothing is missed while
/// reception is down, and replaying an event changes nothing the second time.
struct AgentDirectory {
    let database: Database

    static let eventTypes: Set<String> = [
        EmployeeCreated.eventType, EmployeeUpdated.eventType, EmployeeStatusChanged.eventType,
        EmployeeBusinessTransferred.eventType,
    ]

    func handle(_ event: StoredEvent) async throws {
        try await database.withTenant(event.tenantID) { tx in
            switch event.type {
            case EmployeeCreated.eventType:
                try await tx.saveAgent(try event.decode(EmployeeCreated.self).employee)
            case EmployeeUpdated.eventType:
                try await tx.saveAgent(try event.decode(EmployeeUpdated.self).employee)
            case EmployeeStatusChanged.eventType:
                let employee = try event.decode(EmployeeStatusChanged.self).employee
                try await tx.saveAgent(employee)
                if employee.status != "active" {
                    try await tx.replaceAgent(employee.employeeId.uuid, with: nil)
                }
            case EmployeeBusinessTransferred.eventType:
                let handover = try event.decode(EmployeeBusinessTransferred.self)
                try await tx.replaceAgent(handover.fromEmployeeId.uuid, with: handover.toEmployeeId.uuid)
            default:
                break
            }
        }
    }
}

extension TenantTransaction {
    func saveAgent(_ employee: EmployeeSnapshot) async throws {
        try await query("""
            INSERT INTO reception.agents (tenant_id, employee_id, display_name, status)
            VALUES (\(tenantID.uuid), \(employee.employeeId.uuid), \(employee.displayName), \(employee.status))
            ON CONFLICT (tenant_id, employee_id) DO UPDATE
            SET display_name = excluded.display_name, status = excluded.status, updated_at = now()
            """)
    }

    /// Takes `agent` out of groups, assignment targets and single-agent widgets, putting
    /// `successor` in its place when given (a handover). Each changed item is a change event.
    func replaceAgent(_ agent: UUID, with successor: UUID?) async throws {
        for var group in try await items(.group, as: ReceptionGroup.self) where group.document.memberIds.contains(agent) {
            group.document.memberIds = group.document.memberIds.flatMap { $0 == agent ? [successor].compactMap { $0 } : [$0] }.uniqued()
            try await updateItem(.group, id: group.id, document: group.document, columns: .init(name: group.document.name))
            try await configChanged(ConfigKind.group.rawValue, id: group.id, action: "members_changed")
        }
        for var rule in try await items(.assignmentRule, as: AssignmentRule.self)
        where rule.document.targets.contains(where: { $0.type == .agent && $0.id == agent }) {
            rule.document.targets = rule.document.targets.flatMap { target -> [AssignmentTarget] in
                guard target.type == .agent, target.id == agent else { return [target] }
                return successor.map { [AssignmentTarget(type: .agent, id: $0)] } ?? []
            }
            // A rule left without targets could only fall through; it is switched off instead,
            // so the admin sees it.
            if rule.document.targets.isEmpty { rule.document.enabled = false }
            try await updateItem(.assignmentRule, id: rule.id, document: rule.document, columns: .init(name: rule.document.name))
            try await configChanged(ConfigKind.assignmentRule.rawValue, id: rule.id, action: "members_changed")
        }
        if let successor {
            for var widget in try await items(.widget, as: Widget.self) where widget.document.reception.agentId == agent {
                widget.document.reception.agentId = successor
                try await updateItem(.widget, id: widget.id, document: widget.document, columns: .init(name: widget.document.name))
                try await configChanged(ConfigKind.widget.rawValue, id: widget.id, action: "members_changed")
            }
        }
    }
}
