import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Keeps `reception.custom_fields` in step with the customer library's field definitions, so
/// rules can test `custom.<api_name>` with the field's type.
struct CustomFieldDirectory {
    let database: Database

    static let eventTypes: Set<String> = [CustomerFieldChanged.eventType]

    func handle(_ event: StoredEvent) async throws {
        let field = try event.decode(CustomerFieldChanged.self)
        try await database.withTenant(event.tenantID) { tx in
            if field.exists {
                try await tx.query("""
                    INSERT INTO reception.custom_fields (tenant_id, api_name, type, choices)
                    VALUES (\(tx.tenantID.uuid), \(field.apiName), \(field.type.rawValue), \(field.choices))
                    ON CONFLICT (tenant_id, api_name) DO UPDATE SET type = excluded.type, choices = excluded.choices
                    """)
            } else {
                try await tx.query("DELETE FROM reception.custom_fields WHERE api_name = \(field.apiName)")
            }
            try await tx.configChanged("custom_field", action: field.exists ? "updated" : "deleted")
        }
    }
}
