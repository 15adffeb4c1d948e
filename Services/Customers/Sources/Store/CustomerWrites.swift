import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// The statements every writer of customers shares (routes and event consumers), so a profile,
/// an identity or an owner is written one way.
extension TenantTransaction {
    func insertCustomer(_ id: UUID, _ profile: Profile, entered: Bool, owner: UUID?, team: UUID?) async throws {
        try await query("""
            INSERT INTO customers.customers (tenant_id, id, entered, entered_at, name, gender, age, birthday, education, region,
                address, company, title, phones, search_phones, emails, status, tags, remark, source, follow_up_status, funnel_stage, custom,
                owner_id, owner_team_id)
            VALUES (\(tenantID.uuid), \(id), \(entered), CASE WHEN \(entered) THEN now() END, \(profile.name), \(profile.gender),
                \(profile.age), \(profile.birthday)::date, \(profile.education), \(profile.region), \(profile.address), \(profile.company),
                \(profile.title), \(profile.phones), \(profile.phones.joined(separator: " ")), \(profile.emails), \(profile.status),
                \(profile.tags), \(profile.remark), \(profile.source), \(profile.followUpStatus), \(profile.funnelStage), \(try Self.json(profile.custom))::jsonb,
                \(owner), \(team))
            """)
    }

    func updateProfile(_ id: UUID, _ profile: Profile) async throws {
        try await query("""
            UPDATE customers.customers SET name = \(profile.name), gender = \(profile.gender), age = \(profile.age),
                birthday = \(profile.birthday)::date, education = \(profile.education), region = \(profile.region),
                address = \(profile.address), company = \(profile.company), title = \(profile.title), phones = \(profile.phones),
                search_phones = \(profile.phones.joined(separator: " ")), emails = \(profile.emails), status = \(profile.status), tags = \(profile.tags), remark = \(profile.remark),
                source = \(profile.source), follow_up_status = \(profile.followUpStatus), funnel_stage = \(profile.funnelStage),
                custom = \(try Self.json(profile.custom))::jsonb, updated_at = now()
            WHERE id = \(id)
            """)
    }

    /// The phones of a profile are also the customer's `phone` identities, so that the same number
    /// arriving as an identity elsewhere is recognised (a strong identifier: it merges). A number
    /// another customer already holds stays a profile value only — typing a phone into a profile
    /// never merges two customers; adding it as an identity does. A number taken off the profile
    /// takes its identity with it.
    func syncPhoneIdentities(of customer: UUID, from old: [String], to new: [String]) async throws {
        let removed = old.filter { !new.contains($0) }
        if !removed.isEmpty {
            try await query("""
                DELETE FROM customers.identities
                WHERE customer_id = \(customer) AND kind = 'phone' AND channel = '' AND external_id = ANY(\(removed)::text[])
                """)
        }
        if !new.isEmpty {
            try await query("""
                INSERT INTO customers.identities (tenant_id, kind, channel, external_id, customer_id)
                SELECT \(tenantID.uuid), 'phone', '', phone, \(customer) FROM unnest(\(new)::text[]) AS phone
                ON CONFLICT DO NOTHING
                """)
        }
    }

    /// Adds an identity to a customer; one already held by another customer is a 409 naming it
    /// (two different people are never merged by guesswork: issue 12).
    func addIdentity(_ identity: CustomerView.Identity, to customer: UUID) async throws {
        try await rejectingDuplicates(as: .conflict(
            code: "identity_taken", detail: "Another customer is already known as \(identity.kind) \(identity.externalId)."
        )) {
            try await query("""
                INSERT INTO customers.identities (tenant_id, kind, channel, external_id, customer_id)
                VALUES (\(tenantID.uuid), \(identity.kind), \(identity.channel ?? ""), \(identity.externalId), \(customer))
                """)
        }
    }

    /// Publishes who owns the customer now, with its web visitors (routing's owner first).
    func publishOwner(of customer: UUID) async throws {
        let rows = try await query("SELECT owner_id, owner_team_id FROM customers.customers WHERE id = \(customer)")
        for try await (owner, team) in rows.decode((UUID?, UUID?).self) {
            try await publish(CustomerOwnerChanged(
                customerId: customer, ownerId: owner.map(EmployeeID.init), ownerTeamId: team, visitorIds: try await visitorIDs(of: customer)
            ))
        }
    }

    /// Sets the owner and team of each customer and publishes each change.
    func setOwners(_ customers: [UUID], owner: UUID?, team: UUID?) async throws {
        for customer in customers {
            try await query("""
                UPDATE customers.customers SET owner_id = \(owner), owner_team_id = \(team), updated_at = now() WHERE id = \(customer)
                """)
            try await publishOwner(of: customer)
            // "Has an owner" is a fact rules may test.
            try await applyRules(to: customer)
        }
    }

    /// Who owns a customer, as an audit record shows it before and after a change.
    struct Ownership: Encodable, Sendable {
        @LowercaseUUID var ownerId: UUID?
        @LowercaseUUID var ownerTeamId: UUID?
    }

    /// Records a caller's change of a customer's owner in the audit log (claim, release, change,
    /// batch); the library's own moves (handover, a deleted employee) follow accounts' audited acts.
    func auditOwners(_ actor: AuditActor, of customer: UUID, from before: Ownership, to after: Ownership) async throws {
        try await publishAudit(actor, action: "customers.customer.owner_changed", targetType: "customer",
                               targetID: customer.uuidString.lowercased(), before: before, after: after)
    }

    /// Deletes a customer with everything that hangs on it (identities, receptions, follow-ups …).
    func deleteCustomer(_ before: CustomerView, by: EmployeeID?) async throws {
        let visitors = try await visitorIDs(of: before.id)
        try await query("DELETE FROM customers.customers WHERE id = \(before.id)")
        // Routing must stop sending these visitors to the former owner.
        if before.ownerId != nil || before.ownerTeamId != nil {
            try await publish(CustomerOwnerChanged(customerId: before.id, ownerId: nil, ownerTeamId: nil, visitorIds: visitors))
        }
        try await publish(CustomerDeleted(customerId: before.id, visitorIds: visitors, by: by))
    }

    /// Marks or unmarks a customer as an employee's favourite (idempotent both ways).
    func setFavourite(_ customer: UUID, of employee: EmployeeID, _ favourite: Bool) async throws {
        if favourite {
            try await query("""
                INSERT INTO customers.favourites (tenant_id, customer_id, employee_id) VALUES (\(tenantID.uuid), \(customer), \(employee.uuid))
                ON CONFLICT DO NOTHING
                """)
        } else {
            try await query("DELETE FROM customers.favourites WHERE customer_id = \(customer) AND employee_id = \(employee.uuid)")
        }
        try await publish(CustomerPersonalMarkChanged(customerId: customer, employeeId: employee, mark: "favourite", present: favourite))
    }

    static func json(_ values: [String: JSONValue]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }
}
