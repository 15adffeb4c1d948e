import Foundation
import Hummingbird
import KefuCore
import KefuModels

extension Accounts {
    /// The tenant a sign-in names, if it exists and is active. Sign-in happens before any tenant
    /// is set, so this goes through the one narrow cross-tenant function.
    func activeTenant(slug: String) async throws -> TenantID? {
        let rows = try await database.rows("SELECT tenant_id, status FROM accounts.tenant_by_slug(\(slug))")
        guard let (id, status) = try rows.first?.decode((UUID, String).self), status == "active" else { return nil }
        return TenantID(id)
    }

    func tenantIsActive(_ tenant: TenantID) async throws -> Bool {
        try await database.withTenant(tenant) { tx in
            let rows = try await tx.query("SELECT status = 'active' FROM accounts.tenants")
            for try await active in rows.decode(Bool.self) { return active }
            return false
        }
    }
}

/// A tenant as the platform operator sees it.
struct TenantView: ResponseEncodable, Codable, Sendable {
    let id: TenantID
    let slug: String
    let name: String
    let seatLimit: Int
    let status: String
    let counts: EmployeeCounts?
    let createdAt: Date
}

/// Counts shown to admins (DOMAIN.md §1).
struct EmployeeCounts: Codable, Sendable, ResponseEncodable {
    let active: Int
    let disabled: Int
    let deleted: Int
    let seatsLeft: Int
}

extension TenantTransaction {
    func tenantView() async throws -> TenantView? {
        let rows = try await query("""
            SELECT t.tenant_id, t.slug, t.name, t.seat_limit, t.status, t.created_at,
                   count(*) FILTER (WHERE e.status = 'active')::int, count(*) FILTER (WHERE e.status = 'disabled')::int,
                   count(*) FILTER (WHERE e.status = 'deleted')::int
            FROM accounts.tenants t LEFT JOIN accounts.employees e ON e.tenant_id = t.tenant_id
            GROUP BY t.tenant_id
            """)
        for try await r in rows.decode((UUID, String, String, Int, String, Date, Int, Int, Int).self) {
            return TenantView(
                id: TenantID(r.0), slug: r.1, name: r.2, seatLimit: r.3, status: r.4,
                counts: EmployeeCounts(active: r.6, disabled: r.7, deleted: r.8, seatsLeft: max(0, r.3 - r.6)),
                createdAt: r.5
            )
        }
        return nil
    }
}
