import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `{ "access_token", "refresh_token", "expires_in", "token_type": "Bearer" }`
struct TokenResponse: ResponseEncodable, Codable, Sendable {
    let accessToken: String
    let refreshToken: String?
    let expiresIn: Int
    let tokenType: String
}

/// A secret handed out once as `<prefix>.<tenant>.<id>.<secret>`: the tenant and id locate the
/// row (inside that tenant's row-level security); only the secret's digest is stored. Refresh
/// tokens are `kefu_rt.…`, API keys `kefu_ak.…`.
struct TenantSecret {
    static let refreshToken = "kefu_rt"
    static let apiKey = "kefu_ak"

    let prefix: String
    let tenant: TenantID
    let id: UUID
    let secret: String

    var string: String { "\(prefix).\(tenant).\(id.uuidString.lowercased()).\(secret)" }

    /// A new random secret for a new row.
    init(prefix: String, tenant: TenantID, id: UUID = UUID()) {
        self.prefix = prefix
        self.tenant = tenant
        self.id = id
        self.secret = RandomToken.make()
    }

    /// Parses a presented secret; nil when it is not of this kind.
    init?(_ string: String, prefix: String) {
        let parts = string.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == prefix, let tenant = TenantID(String(parts[1])),
              let id = UUID(uuidString: String(parts[2])), !parts[3].isEmpty
        else { return nil }
        self.prefix = prefix
        self.tenant = tenant
        self.id = id
        self.secret = String(parts[3])
    }
}

extension Accounts {
    var accessTokenLifetime: TimeInterval { TimeInterval(resources.config.accessTokenLifetime.components.seconds) }

    /// An access token for `employee` in `session`, carrying their current permissions and scopes.
    func accessToken(tenant: TenantID, employee: EmployeeRecord, access: EffectiveAccess, session: UUID) async throws -> String {
        try await signer.sign(AccessTokenClaims(
            subject: .employee(EmployeeID(employee.id)), tenant: tenant, session: session,
            permissions: access.permissions, scopes: access.scopes, department: employee.departmentID,
            lifetime: accessTokenLifetime
        ))
    }

    /// Starts a sign-in session: a new refresh-token family and its first tokens. `secondFactor`:
    /// whether this sign-in passed the phone code — a session that did not may never carry a
    /// sensitive permission.
    func startSession(_ tx: TenantTransaction, employee: EmployeeRecord, access: EffectiveAccess, secondFactor: Bool) async throws -> TokenResponse {
        let family = UUID()
        let refresh = try await insertRefreshToken(tx, employee: employee.id, family: family, secondFactor: secondFactor, sessionExpiresAt: nil)
        return TokenResponse(
            accessToken: try await accessToken(tenant: tx.tenantID, employee: employee, access: access, session: family),
            refreshToken: refresh.string, expiresIn: Int(accessTokenLifetime), tokenType: "Bearer"
        )
    }

    /// A refresh token of `family`. A new session (`sessionExpiresAt` nil) ends at most
    /// `sessionLifetime` from now; a rotated token keeps its session's end, so refreshing slides
    /// the idle limit but never the absolute one.
    func insertRefreshToken(
        _ tx: TenantTransaction, employee: UUID, family: UUID, secondFactor: Bool, sessionExpiresAt: Date?
    ) async throws -> TenantSecret {
        let token = TenantSecret(prefix: TenantSecret.refreshToken, tenant: tx.tenantID)
        try await tx.query("""
            WITH session AS (
                SELECT coalesce(\(sessionExpiresAt)::timestamptz, now() + make_interval(secs => \(settings.sessionLifetime))) AS ends
            )
            INSERT INTO accounts.refresh_tokens (tenant_id, id, family_id, employee_id, secret_hash, second_factor,
                                                 session_expires_at, expires_at)
            SELECT \(tx.tenantID.uuid), \(token.id), \(family), \(employee), \(Secrets.digest(token.secret)), \(secondFactor),
                   session.ends, least(session.ends, now() + make_interval(secs => \(settings.refreshTokenLifetime)))
            FROM session
            """)
        return token
    }

    /// Gaining a sensitive permission ends the sessions that did not pass the second factor: their
    /// next refresh would be refused anyway, and their access tokens must not outlive the change.
    func endSessionsWithoutSecondFactor(_ tx: TenantTransaction, employees: [UUID]) async throws {
        for employee in employees where try await tx.effectiveAccess(employee: employee).needsSecondFactor {
            let families = try await tx.query("""
                UPDATE accounts.refresh_tokens SET revoked_at = now()
                WHERE employee_id = \(employee) AND revoked_at IS NULL AND NOT second_factor
                RETURNING family_id
                """).collect().map { try $0.decode(UUID.self) }
            for family in Set(families) {
                try await tx.publish(SessionRevoked(employeeId: EmployeeID(employee), sessionId: family))
            }
        }
    }

    /// Ends every session of `employee` (disable, delete, admin password reset) here and, through
    /// the event, in every service's revocation list.
    func revokeAllSessions(_ tx: TenantTransaction, employee: UUID, reason: String) async throws {
        try await tx.query("""
            UPDATE accounts.refresh_tokens SET revoked_at = now() WHERE employee_id = \(employee) AND revoked_at IS NULL
            """)
        try await tx.publish(EmployeeCredentialsRevoked(employeeId: EmployeeID(employee), reason: reason, revokedAt: Date()))
    }

    func revokeSession(_ tx: TenantTransaction, employee: UUID, family: UUID) async throws {
        try await tx.query("""
            UPDATE accounts.refresh_tokens SET revoked_at = now() WHERE family_id = \(family) AND revoked_at IS NULL
            """)
        try await tx.publish(SessionRevoked(employeeId: EmployeeID(employee), sessionId: family))
    }

    /// Ends every session of `employee` but `keeping` (a password changed by its owner), each
    /// through its own event so that their access tokens stop at once too.
    func revokeOtherSessions(_ tx: TenantTransaction, employee: UUID, keeping: UUID?) async throws {
        let families = try await tx.query("""
            UPDATE accounts.refresh_tokens SET revoked_at = now()
            WHERE employee_id = \(employee) AND revoked_at IS NULL AND family_id IS DISTINCT FROM \(keeping)::uuid
            RETURNING family_id
            """).collect().map { try $0.decode(UUID.self) }
        for family in Set(families) {
            try await tx.publish(SessionRevoked(employeeId: EmployeeID(employee), sessionId: family))
        }
    }

    /// Stores a new password hash for `employee` and says so.
    func setPassword(_ tx: TenantTransaction, employee: UUID, hash: String) async throws {
        try await tx.query("""
            UPDATE accounts.employees SET password_hash = \(hash), password_changed_at = now(), updated_at = now() WHERE id = \(employee)
            """)
        try await tx.publish(EmployeePasswordChanged(employeeId: EmployeeID(employee), changedAt: Date()))
    }
}
