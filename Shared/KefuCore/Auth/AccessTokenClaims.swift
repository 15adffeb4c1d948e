import Foundation
import JWTKit
import KefuModels

/// The payload of an access token signed by accounts (ES256) and verified by every service.
/// Short keys keep tokens small; they travel on every request.
public struct AccessTokenClaims: JWTPayload, Equatable {
    public static let issuer = "kefu-accounts"
    public static let audience = "kefu"

    public enum SubjectType: String, Codable, Sendable { case employee, apiKey = "api_key" }

    /// Employee id or API key id, as `typ` says.
    public var sub: SubjectClaim
    public var typ: SubjectType
    /// Tenant id.
    public var tid: String
    /// Sign-in session (refresh-token family) of an employee token; logout revokes it.
    public var sid: String?
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    /// Token id, for audit.
    public var jti: IDClaim
    /// Functional permission keys.
    public var perms: [String]
    /// Data scopes, the union over the employee's roles.
    public var scopes: DataScopes
    /// The employee's department, for "my department and below" scopes.
    public var dep: String?

    public init(
        subject: Principal.Subject, tenant: TenantID, session: UUID? = nil, permissions: Set<Permission>,
        scopes: DataScopes, department: UUID? = nil, issuedAt: Date = Date(), lifetime: TimeInterval,
        tokenID: String = UUID().uuidString.lowercased()
    ) {
        switch subject {
        case .employee(let id):
            self.sub = SubjectClaim(value: id.description)
            self.typ = .employee
        case .apiKey(let id):
            self.sub = SubjectClaim(value: id.description)
            self.typ = .apiKey
        }
        self.tid = tenant.description
        self.sid = session?.uuidString.lowercased()
        self.iss = IssuerClaim(value: Self.issuer)
        self.aud = AudienceClaim(value: [Self.audience])
        // Fractional seconds (NumericDate allows them): a revocation and a new sign-in within the
        // same second must still be told apart.
        self.iat = IssuedAtClaim(value: issuedAt)
        self.exp = ExpirationClaim(value: issuedAt.addingTimeInterval(lifetime))
        self.jti = IDClaim(value: tokenID)
        self.perms = permissions.map(\.rawValue).sorted()
        self.scopes = scopes
        self.dep = department?.uuidString.lowercased()
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try aud.verifyIntendedAudience(includes: Self.audience)
        guard iss.value == Self.issuer else { throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "wrong issuer") }
    }

    /// The principal these claims describe; nil when the ids are malformed.
    public var principal: Principal? {
        guard let tenant = TenantID(tid), let id = UUID(uuidString: sub.value) else { return nil }
        let subject: Principal.Subject = switch typ {
        case .employee: .employee(EmployeeID(id))
        case .apiKey: .apiKey(ApiKeyID(id))
        }
        return Principal(
            tenantID: tenant, subject: subject,
            permissions: Set(perms.map(Permission.init(rawValue:))), dataScopes: scopes,
            sessionID: sid.flatMap(UUID.init(uuidString:)), departmentID: dep.flatMap(UUID.init(uuidString:)),
            issuedAt: iat.value
        )
    }
}
