import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `/v1/api-keys`: named keys scoped to a subset of their creator's permissions, optionally
/// expiring. A key is a `TenantSecret` (`kefu_ak.…`); partners exchange it at
/// `POST /v1/auth/api-key-token` for a short-lived access token that reaches no further than the
/// creator does at that moment. Disabling or deleting the creator revokes their keys.
struct ApiKeysController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/api-keys", use: list)
        router.post("/v1/api-keys", use: create)
        router.get("/v1/api-keys/{id}", use: show)
        router.delete("/v1/api-keys/{id}", use: revoke)
    }

    struct ApiKeyView: ResponseEncodable, Codable, Sendable {
        @LowercaseUUID var id: UUID
        let name: String
        let permissions: [String]
        @LowercaseUUID var createdBy: UUID
        let createdAt: Date
        let lastUsedAt: Date?
        let expiresAt: Date?
        let revokedAt: Date?
        /// Only in the answer to the create request.
        var key: String?
    }

    struct CreateRequest: Decodable {
        let name: String?
        let permissions: [String]?
        let expiresAt: Date?
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<ApiKeyView> {
        let principal = try context.requirePermission(.enterpriseApiKeys)
        guard let creator = principal.employeeID else {
            throw Problem(.forbidden, code: "employees_only", detail: "API keys are created by employees, not by other keys.")
        }
        let body = try await request.decode(as: CreateRequest.self, context: context)
        var v = Validation()
        let name = v.text(body.name, "name", length: 1...50)
        if let permissions = body.permissions {
            v.check(!permissions.isEmpty, "permissions", "must list at least one permission")
            for (index, key) in permissions.enumerated() where PermissionCatalogue.byKey[Permission(rawValue: key)] == nil {
                v.add("permissions[\(index)]", "is not a permission of the catalogue (/v1/permissions)", code: "unknown_permission")
            }
        } else {
            v.add("permissions", "is required", code: "required")
        }
        if let expiresAt = body.expiresAt { v.check(expiresAt > Date(), "expires_at", "must be in the future") }
        try v.throwIfInvalid()
        let permissions = Set(body.permissions!.map(Permission.init(rawValue:)))
        let secret = TenantSecret(prefix: TenantSecret.apiKey, tenant: principal.tenantID)
        let actor = AuditActor(context: context)
        var view = try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.authority(of: principal).requireGrantable(permissions)
            try await tx.query("""
                INSERT INTO accounts.api_keys (tenant_id, id, name, secret_hash, permissions, created_by, expires_at)
                VALUES (\(tx.tenantID.uuid), \(secret.id), \(name!), \(Secrets.digest(secret.secret)),
                        \(permissions.map(\.rawValue).sorted()), \(creator.uuid), \(body.expiresAt))
                """)
            let view = try await tx.apiKeys(id: secret.id)[0]
            try await tx.publish(ApiKeyCreated(
                apiKeyId: ApiKeyID(secret.id), name: view.name, permissions: view.permissions, createdBy: creator, expiresAt: view.expiresAt
            ))
            try await tx.audit(actor, action: "api_key.created", targetType: "api_key", targetID: secret.id.uuidString.lowercased(), after: view)
            return view
        }
        view.key = secret.string
        return EditedResponse(status: .created, headers: [.kefuSecretOnce: "true"], response: view)
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<ApiKeyView> {
        let principal = try context.requirePermission(.enterpriseApiKeys)
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: Date.self) ?? .distantFuture
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            try page.page(from: try await tx.apiKeys(createdBefore: after, limit: page.limit + 1)) { $0.createdAt }
        }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> ApiKeyView {
        let principal = try context.requirePermission(.enterpriseApiKeys)
        let id = try context.parameters.uuid(what: "API key")
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let view = try await tx.apiKeys(id: id).first else { throw Problem.notFound("API key") }
            return view
        }
    }

    /// Revoked keys cannot be exchanged again, and tokens already exchanged stop working in every
    /// service through the revocation event.
    @Sendable func revoke(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.enterpriseApiKeys)
        let id = try context.parameters.uuid(what: "API key")
        let actor = AuditActor(context: context)
        try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let before = try await tx.apiKeys(id: id).first else { throw Problem.notFound("API key") }
            guard before.revokedAt == nil else { return }
            try await tx.query("UPDATE accounts.api_keys SET revoked_at = now() WHERE id = \(id)")
            try await tx.publish(ApiKeyRevoked(apiKeyId: ApiKeyID(id)))
            try await tx.audit(actor, action: "api_key.revoked", targetType: "api_key", targetID: id.uuidString.lowercased(),
                               before: before, after: try await tx.apiKeys(id: id)[0])
        }
        return .noContent
    }
}

extension TenantTransaction {
    func apiKeys(id: UUID? = nil, createdBefore: Date = .distantFuture, limit: Int = 1000) async throws -> [ApiKeysController.ApiKeyView] {
        let rows = try await query("""
            SELECT id, name, permissions, created_by, created_at, last_used_at, expires_at, revoked_at FROM accounts.api_keys
            WHERE (\(id)::uuid IS NULL OR id = \(id)) AND created_at < \(createdBefore)
            ORDER BY created_at DESC LIMIT \(limit)
            """)
        var views: [ApiKeysController.ApiKeyView] = []
        for try await r in rows.decode((UUID, String, [String], UUID, Date, Date?, Date?, Date?).self) {
            views.append(.init(id: r.0, name: r.1, permissions: r.2, createdBy: r.3, createdAt: r.4, lastUsedAt: r.5, expiresAt: r.6, revokedAt: r.7))
        }
        return views
    }

    /// A disabled or deleted employee's keys stop at once: revoked here and, through the events,
    /// their tokens in every service. Re-enabling the employee does not bring them back.
    func revokeApiKeys(createdBy employee: UUID) async throws {
        let ids = try await query("""
            UPDATE accounts.api_keys SET revoked_at = now() WHERE created_by = \(employee) AND revoked_at IS NULL RETURNING id
            """).collect().map { try $0.decode(UUID.self) }
        for id in ids { try await publish(ApiKeyRevoked(apiKeyId: ApiKeyID(id))) }
    }
}
