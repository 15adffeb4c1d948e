import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// 业务交接: an admin transfers a (typically leaving) employee's business — owned customers,
/// open conversations, pending follow-ups — to another employee. Accounts records it and
/// publishes `employee.business_transferred`; the customer library and routing apply it.
struct HandoverController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/employees/{id}/handover", use: transfer)
        router.get("/v1/handovers", use: list)
    }

    struct HandoverRequest: Decodable {
        let toEmployeeId: UUID
        let note: String?
    }

    struct HandoverView: ResponseEncodable, Codable, Sendable {
        @LowercaseUUID var id: UUID
        @LowercaseUUID var fromEmployeeId: UUID
        @LowercaseUUID var toEmployeeId: UUID
        let note: String?
        let createdByType: String
        @LowercaseUUID var createdBy: UUID?
        let createdAt: Date
    }

    @Sendable func transfer(request: Request, context: KefuRequestContext) async throws -> EditedResponse<HandoverView> {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let from = try context.parameters.uuid(what: "employee")
        let body = try await request.decode(as: HandoverRequest.self, context: context)
        var v = Validation()
        let note = v.text(body.note, "note", length: 1...500, optional: true)
        v.check(body.toEmployeeId != from, "to_employee_id", "must be another employee", code: "same_employee")
        try v.throwIfInvalid()
        let actor = AuditActor(context: context)
        let view = try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            _ = try await tx.reachableEmployee(from, reach: reach, includingDeleted: true)
            let target = try await referenced("to_employee_id") { try await tx.reachableEmployee(body.toEmployeeId, reach: reach) }
            guard target.status == "active" else {
                throw Problem.invalid("to_employee_id", "must be an active employee", code: "not_active")
            }
            let id = UUID()
            try await tx.query("""
                INSERT INTO accounts.handovers (tenant_id, id, from_employee_id, to_employee_id, note, created_by_type, created_by)
                VALUES (\(tx.tenantID.uuid), \(id), \(from), \(target.id), \(note), \(actor.type), \(actor.id))
                """)
            let view = try await tx.handovers(id: id)[0]
            try await tx.publish(EmployeeBusinessTransferred(
                handoverId: id, fromEmployeeId: EmployeeID(from), toEmployeeId: EmployeeID(target.id), note: note
            ))
            try await tx.audit(actor, action: "employee.business_transferred", targetType: "employee",
                               targetID: from.uuidString.lowercased(), after: view)
            return view
        }
        return EditedResponse(status: .created, response: view)
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<HandoverView> {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let page = try PageRequest(request: request)
        let before = try page.cursor(as: Date.self) ?? .distantFuture
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let all = try await tx.handovers(createdBefore: before, limit: page.limit + 1)
            // Within an organisation scope, handovers of employees out of reach stay hidden.
            var visible: [HandoverView] = []
            for handover in all {
                let from = try await tx.employee(id: handover.fromEmployeeId, includingDeleted: true)
                if let from, reach.includes(from) { visible.append(handover) }
            }
            return try page.page(from: visible) { $0.createdAt }
        }
    }
}

extension TenantTransaction {
    func handovers(id: UUID? = nil, createdBefore: Date = .distantFuture, limit: Int = 1000) async throws -> [HandoverController.HandoverView] {
        let rows = try await query("""
            SELECT id, from_employee_id, to_employee_id, note, created_by_type, created_by, created_at FROM accounts.handovers
            WHERE (\(id)::uuid IS NULL OR id = \(id)) AND created_at < \(createdBefore)
            ORDER BY created_at DESC LIMIT \(limit)
            """)
        var views: [HandoverController.HandoverView] = []
        for try await r in rows.decode((UUID, UUID, UUID, String?, String, UUID?, Date).self) {
            views.append(.init(id: r.0, fromEmployeeId: r.1, toEmployeeId: r.2, note: r.3, createdByType: r.4, createdBy: r.5, createdAt: r.6))
        }
        return views
    }
}
