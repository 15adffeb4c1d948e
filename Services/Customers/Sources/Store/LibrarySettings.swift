import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// The follow-up statuses (跟进状态) and funnel stages (漏斗阶段) a tenant uses, in order.
struct LibrarySettings: ResponseEncodable, Codable, Sendable, Equatable {
    var followUpStatuses: [String]
    var funnelStages: [String]

    /// DOMAIN.md §4's, until the tenant writes its own.
    static let defaults = LibrarySettings(
        followUpStatuses: ["to_follow_up", "in_progress", "done"],
        funnelStages: ["initial_contact", "interested", "order_submitted", "deal_closed"]
    )

    /// 1 to 20 distinct values of 1 to 30 characters each, per list.
    func checked() throws -> LibrarySettings {
        var v = Validation()
        func list(_ values: [String], _ field: String) -> [String] {
            var result: [String] = []
            for (index, value) in values.enumerated() {
                guard let value = v.text(value, "\(field)[\(index)]", length: 1...30) else { continue }
                v.check(!result.contains(value), "\(field)[\(index)]", "is listed twice", code: "duplicate")
                result.append(value)
            }
            v.check((1...20).contains(values.count), field, "must list 1 to 20 values", code: values.isEmpty ? "required" : "too_many")
            return result
        }
        let settings = LibrarySettings(followUpStatuses: list(followUpStatuses, "follow_up_statuses"), funnelStages: list(funnelStages, "funnel_stages"))
        try v.throwIfInvalid()
        return settings
    }
}

extension TenantTransaction {
    func librarySettings() async throws -> LibrarySettings {
        let rows = try await query("SELECT body::text FROM customers.settings WHERE key = 'library'")
        for try await body in rows.decode(String.self) {
            return try KefuJSON.decoder().decode(LibrarySettings.self, from: Data(body.utf8))
        }
        return .defaults
    }
}

/// `GET`/`PUT /v1/customer-settings`: the tenant's follow-up statuses and funnel stages. Reading
/// needs `customers.view`, writing `customers.fields`. A value taken out stays on the customers
/// that hold it (nothing is lost) but can no longer be set.
struct LibrarySettingsController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/customer-settings", use: show)
        router.put("/v1/customer-settings", use: replace)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> LibrarySettings {
        let principal = try context.requirePermission(.customersView)
        return try await database.withTenant(principal.tenantID) { tx in try await tx.librarySettings() }
    }

    @Sendable func replace(request: Request, context: KefuRequestContext) async throws -> LibrarySettings {
        let principal = try context.requirePermission(.customersFields)
        let settings = try await request.decode(as: LibrarySettings.self, context: context).checked()
        let actor = AuditActor(context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.librarySettings()
            try await tx.query("""
                INSERT INTO customers.settings (tenant_id, key, body) VALUES (\(tx.tenantID.uuid), 'library', \(try Self.json(settings))::jsonb)
                ON CONFLICT (tenant_id, key) DO UPDATE SET body = excluded.body, updated_at = now()
                """)
            try await tx.publish(CustomerSettingsChanged(key: "library"))
            try await tx.publishAudit(actor, action: "customers.settings.updated", targetType: "customer_settings", targetID: "library",
                                      before: before, after: settings)
            return settings
        }
    }

    static func json(_ settings: LibrarySettings) throws -> String {
        String(decoding: try KefuJSON.encoder().encode(settings), as: UTF8.self)
    }
}
