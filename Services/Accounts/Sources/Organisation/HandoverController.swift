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
            _ = try await tx.manageableEmployee(from, principal: principal, includingDeleted: true)
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

    struct Cursor: Codable { let createdAt: Date; let id: UUID }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<HandoverView> {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: Cursor.self)
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let handovers = try await tx.handovers(reach: reach, after: after.map { ($0.createdAt, $0.id) }, limit: page.limit + 1)
            return try page.page(from: handovers) { Cursor(createdAt: $0.createdAt, id: $0.id) }
        }
    }
}

extension TenantTransaction {
    /// Newest first; within an organisation scope, only handovers from employees in reach.
    func handovers(
        id: UUID? = nil, reach: OrganisationReach? = nil, after: (Date, UUID)? = nil, limit: Int = 1000
    ) async throws -> [HandoverController.HandoverView] {
        let whole = reach?.isWholeCompany ?? true
        let rows = try await query("""
            SELECT h.id, h.from_employee_id, h.to_employee_id, h.note, h.created_by_type, h.created_by, h.created_at
            FROM accounts.handovers h JOIN accounts.employees e ON e.tenant_id = h.tenant_id AND e.id = h.from_employee_id
            WHERE (\(id)::uuid IS NULL OR h.id = \(id))
              AND (\(whole) OR e.department_id = ANY(\(reach?.departments ?? [])) OR e.id = \(reach?.selfID)::uuid)
              AND (\(after?.0)::timestamptz IS NULL OR (h.created_at, h.id) < (\(after?.0)::timestamptz, \(after?.1)::uuid))
            ORDER BY h.created_at DESC, h.id DESC LIMIT \(limit)
            """)
        var views: [HandoverController.HandoverView] = []
        for try await r in rows.decode((UUID, UUID, UUID, String?, String, UUID?, Date).self) {
            views.append(.init(id: r.0, fromEmployeeId: r.1, toEmployeeId: r.2, note: r.3, createdByType: r.4, createdBy: r.5, createdAt: r.6))
        }
        return views
    }
}
