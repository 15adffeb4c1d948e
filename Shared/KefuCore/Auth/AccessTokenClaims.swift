import Foundation
import JWTKit
import KefuModels

/// The payload of an access token signed by accounts (ES256) and verified by every service.
/// Short keys keep tokens small; they travel on every request.
public struct AccessTokenClaims: JWTPayload, Equatable {
    public static let issuer = "kefu-accounts"
    public static let audience = "kefu"

    /// Employee id.
    public var sub: SubjectClaim
    /// Tenant id.
    public var tid: String
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    /// Token id, for revocation lists and audit.
    public var jti: IDClaim
    /// Functional permission keys.
    public var perms: [String]
    /// Data scopes, the union over the employee's roles.
    public var scopes: DataScopes

    public init(
        employee: EmployeeID, tenant: TenantID, permissions: Set<Permission>, scopes: DataScopes,
        issuedAt: Date = Date(), lifetime: TimeInterval, tokenID: String = UUID().uuidString.lowercased()
    ) {
        self.sub = SubjectClaim(value: employee.description)
        self.tid = tenant.description
        self.iss = IssuerClaim(value: Self.issuer)
        self.aud = AudienceClaim(value: [Self.audience])
        self.iat = IssuedAtClaim(value: issuedAt)
        self.exp = ExpirationClaim(value: issuedAt.addingTimeInterval(lifetime))
        self.jti = IDClaim(value: tokenID)
        self.perms = permissions.map(\.rawValue).sorted()
        self.scopes = scopes
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try aud.verifyIntendedAudience(includes: Self.audience)
        guard iss.value == Self.issuer else { throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "wrong issuer") }
    }

    /// The principal these claims describe; nil when the ids are malformed.
    public var principal: Principal? {
        guard let employee = EmployeeID(sub.value), let tenant = TenantID(tid) else { return nil }
        return Principal(
            tenantID: tenant, subject: .employee(employee),
            permissions: Set(perms.map(Permission.init(rawValue:))), dataScopes: scopes
        )
    }
}
