import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// Sign-in, second factor, refresh, sign-out, API-key exchange and the signing keys.
struct AuthController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/auth/login", use: login)
        router.post("/v1/auth/mfa", use: verifySecondFactor)
        router.post("/v1/auth/refresh", use: refresh)
        router.post("/v1/auth/logout", use: logout)
        router.post("/v1/auth/api-key-token", use: exchangeApiKey)
        router.get("/.well-known/jwks.json", use: jwks)
    }

    struct LoginRequest: Decodable {
        let tenant: String
        let account: String
        let password: String
    }

    /// Either tokens, or a second-factor challenge to answer at `/v1/auth/mfa`.
    struct LoginResponse: ResponseEncodable {
        var accessToken: String?
        var refreshToken: String?
        var expiresIn: Int?
        var tokenType: String?
        var mfaRequired: Bool
        @LowercaseUUID var challengeId: UUID?
        var phoneHint: String?
    }

    enum LoginOutcome: Sendable {
        case tokens(TokenResponse)
        case challenge(PhoneChallenge)
        case refused(Problem)
    }

    @Sendable func login(request: Request, context: KefuRequestContext) async throws -> LoginResponse {
        let body = try await request.decode(as: LoginRequest.self, context: context)
        // A name that no account can have is refused before anything is counted or logged.
        var v = Validation()
        EmployeeInput.validateAccount(body.account, field: "account", into: &v)
        try v.throwIfInvalid()
        try await accounts.limitRequests("login", context: context, account: "\(body.tenant)/\(body.account)")
        let actor = AuditActor(context: context)
        guard let tenant = try await accounts.activeTenant(slug: body.tenant) else {
            _ = try await accounts.hasher.verify(body.password, hash: nil)
            throw Problem.invalidCredentials
        }
        // The attempt is claimed (and committed) before bcrypt runs: see LoginThrottle.
        let key = AttemptKey.password(account: body.account)
        let (lockedUntil, employee) = try await accounts.database.withTenant(tenant) { [settings = accounts.settings] tx in
            (try await tx.claimAttempt(key: key, settings: settings), try await tx.employee(account: body.account))
        }
        if let lockedUntil {
            try await accounts.database.withTenant(tenant) { tx in
                try await tx.audit(actor, action: "auth.login_locked", targetType: "account", targetID: body.account)
            }
            throw Problem.locked(until: lockedUntil)
        }
        let active = employee.flatMap { $0.status == "active" ? $0 : nil }
        guard let active, try await accounts.hasher.verify(body.password, hash: active.passwordHash) else {
            if active == nil { _ = try await accounts.hasher.verify(body.password, hash: nil) }
            try await accounts.database.withTenant(tenant) { tx in
                try await tx.audit(actor, action: "auth.login_failed", targetType: "account", targetID: body.account)
            }
            throw Problem.invalidCredentials
        }
        let outcome = try await accounts.database.withTenant(tenant) { [accounts] tx -> LoginOutcome in
            try await tx.clearAttempts(key: key)
            let access = try await tx.effectiveAccess(employee: active.id)
            if access.needsSecondFactor {
                let challenge: PhoneChallenge?
                do {
                    challenge = try await accounts.createChallenge(tx, employee: active, purpose: "login")
                } catch let problem as Problem where problem.code == "code_locked" {
                    return .refused(problem) // the password was right: its count is cleared all the same
                }
                guard let challenge else {
                    throw Problem(.forbidden, code: "phone_required",
                                  detail: "This account holds sensitive permissions and needs a bound phone for the second factor.")
                }
                if challenge.code != nil {
                    try await tx.audit(actor, action: "auth.second_factor_sent", targetType: "employee", targetID: active.id.uuidString.lowercased())
                }
                return .challenge(challenge)
            }
            try await tx.audit(actor, action: "auth.login", targetType: "employee", targetID: active.id.uuidString.lowercased())
            return .tokens(try await accounts.startSession(tx, employee: active, access: access, secondFactor: false))
        }
        switch outcome {
        case .tokens(let tokens):
            return LoginResponse(tokens)
        case .refused(let problem):
            throw problem
        case .challenge(let challenge):
            // Sent before answering: whoever knows the password may learn that the gateway failed.
            // A code that was not sent is withdrawn, so that signing in again sends a new one.
            do {
                try await accounts.send(challenge, tenant: tenant, purpose: "login")
            } catch {
                try? await accounts.withdraw(challenge, tenant: tenant)
                throw error
            }
            return LoginResponse(mfaRequired: true, challengeId: challenge.id, phoneHint: maskedPhone(challenge.phone))
        }
    }

    struct SecondFactorRequest: Decodable {
        let tenant: String
        let challengeId: UUID
        let code: String
    }

    @Sendable func verifySecondFactor(request: Request, context: KefuRequestContext) async throws -> LoginResponse {
        let body = try await request.decode(as: SecondFactorRequest.self, context: context)
        try await accounts.limitRequests("mfa", context: context, account: "\(body.tenant)/\(body.challengeId)")
        let actor = AuditActor(context: context)
        guard let tenant = try await accounts.activeTenant(slug: body.tenant) else { throw Problem.invalidCredentials }
        let outcome = try await accounts.database.withTenant(tenant) { [accounts] tx -> Result<TokenResponse, Problem> in
            switch try await accounts.checkChallenge(tx, id: body.challengeId, code: body.code, purpose: "login") {
            case .failed(let problem):
                try await tx.audit(actor, action: "auth.second_factor_failed", targetType: "challenge", targetID: body.challengeId.uuidString.lowercased())
                return .failure(problem)
            case .passed(let employeeID):
                guard let employee = try await tx.employee(id: employeeID), employee.status == "active" else {
                    return .failure(Problem.invalidCredentials)
                }
                let access = try await tx.effectiveAccess(employee: employee.id)
                try await tx.audit(actor, action: "auth.login", targetType: "employee", targetID: employee.id.uuidString.lowercased())
                return .success(try await accounts.startSession(tx, employee: employee, access: access, secondFactor: true))
            }
        }
        return LoginResponse(try outcome.get())
    }

    struct RefreshRequest: Decodable {
        let refreshToken: String
    }

    @Sendable func refresh(request: Request, context: KefuRequestContext) async throws -> TokenResponse {
        let body = try await request.decode(as: RefreshRequest.self, context: context)
        let actor = AuditActor(context: context)
        let invalid = Problem(.unauthorized, code: "invalid_refresh_token", detail: "The refresh token is invalid, expired or revoked.")
        guard let token = TenantSecret(body.refreshToken, prefix: TenantSecret.refreshToken), try await accounts.tenantIsActive(token.tenant) else { throw invalid }
        let outcome = try await accounts.database.withTenant(token.tenant) { [accounts] tx -> Result<TokenResponse, Problem> in
            let rows = try await tx.query("""
                SELECT family_id, employee_id, secret_hash, expires_at > now(), rotated_at IS NOT NULL, revoked_at IS NOT NULL,
                       second_factor, session_expires_at
                FROM accounts.refresh_tokens WHERE id = \(token.id) FOR UPDATE
                """)
            var found: (UUID, UUID, ByteBuffer, Bool, Bool, Bool, Bool, Date)?
            for try await row in rows.decode((UUID, UUID, ByteBuffer, Bool, Bool, Bool, Bool, Date).self) { found = row }
            guard let (family, employeeID, hash, live, rotated, revoked, secondFactor, sessionEnds) = found,
                  Secrets.matches(hash, token.secret) else { return .failure(invalid) }
            if rotated && !revoked {
                // A rotated token came back: someone else holds a copy. End the whole family.
                try await accounts.revokeSession(tx, employee: employeeID, family: family)
                try await tx.audit(actor, action: "auth.refresh_token_reused", targetType: "employee", targetID: employeeID.uuidString.lowercased())
                return .failure(Problem(.unauthorized, code: "refresh_token_reused",
                                        detail: "This refresh token was already used; the session has been ended. Sign in again."))
            }
            guard live, !revoked, !rotated,
                  let employee = try await tx.employee(id: employeeID), employee.status == "active" else { return .failure(invalid) }
            let access = try await tx.effectiveAccess(employee: employeeID)
            if access.needsSecondFactor && !secondFactor {
                // The roles gained a sensitive permission after a password-only sign-in: only a new
                // sign-in with the phone code may carry it.
                try await accounts.revokeSession(tx, employee: employeeID, family: family)
                try await tx.audit(actor, action: "auth.refresh_needs_second_factor", targetType: "employee", targetID: employeeID.uuidString.lowercased())
                return .failure(Problem(.unauthorized, code: "mfa_required",
                                        detail: "Your roles now hold sensitive permissions: sign in again and enter the code sent to your phone."))
            }
            try await tx.query("UPDATE accounts.refresh_tokens SET rotated_at = now() WHERE id = \(token.id)")
            let next = try await accounts.insertRefreshToken(tx, employee: employeeID, family: family, secondFactor: secondFactor, sessionExpiresAt: sessionEnds)
            return .success(TokenResponse(
                accessToken: try await accounts.accessToken(tenant: token.tenant, employee: employee, access: access, session: family),
                refreshToken: next.string, expiresIn: Int(accounts.accessTokenLifetime), tokenType: "Bearer"
            ))
        }
        return try outcome.get()
    }

    /// Ends the caller's session: its refresh tokens here, its access tokens everywhere.
    @Sendable func logout(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requireAuthentication()
        guard let employee = principal.employeeID, let session = principal.sessionID else {
            throw Problem.badRequest(code: "not_a_session", detail: "Only an employee's sign-in session can be logged out.")
        }
        try await accounts.database.withTenant(principal.tenantID) { [accounts] tx in
            try await accounts.revokeSession(tx, employee: employee.uuid, family: session)
            try await tx.audit(AuditActor(context: context), action: "auth.logout", targetType: "employee", targetID: employee.description)
        }
        return .noContent
    }

    struct ApiKeyTokenRequest: Decodable {
        let apiKey: String
    }

    /// API keys are exchanged here for short-lived access tokens, which every service verifies
    /// like any other. A key reaches no further than its creator does now: the token carries the
    /// key's permissions that the creator still holds and the creator's current data scopes. A
    /// revoked or expired key, or one whose creator is no longer active, cannot be exchanged.
    @Sendable func exchangeApiKey(request: Request, context: KefuRequestContext) async throws -> TokenResponse {
        let body = try await request.decode(as: ApiKeyTokenRequest.self, context: context)
        let invalid = Problem(.unauthorized, code: "invalid_api_key", detail: "The API key is invalid, expired or revoked.")
        guard let key = TenantSecret(body.apiKey, prefix: TenantSecret.apiKey), try await accounts.tenantIsActive(key.tenant) else { throw invalid }
        let grant = try await accounts.database.withTenant(key.tenant) { tx -> ApiKeyGrant? in
            let rows = try await tx.query("""
                SELECT secret_hash, permissions, created_by, expires_at FROM accounts.api_keys
                WHERE id = \(key.id) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
                """)
            var found: (ByteBuffer, [String], UUID, Date?)?
            for try await row in rows.decode((ByteBuffer, [String], UUID, Date?).self) { found = row }
            guard let (hash, permissions, creatorID, expiresAt) = found, Secrets.matches(hash, key.secret),
                  let creator = try await tx.employee(id: creatorID), creator.status == "active" else { return nil }
            try await tx.query("UPDATE accounts.api_keys SET last_used_at = now() WHERE id = \(key.id)")
            let access = try await tx.effectiveAccess(employee: creatorID)
            return ApiKeyGrant(
                permissions: Set(permissions.map(Permission.init(rawValue:))).intersection(access.permissions),
                scopes: access.scopes, department: creator.departmentID, expiresAt: expiresAt
            )
        }
        guard let grant else { throw invalid }
        // The token never outlives the key.
        let lifetime = min(accounts.settings.apiKeyTokenLifetime, grant.expiresAt.map { $0.timeIntervalSinceNow } ?? .infinity)
        let token = try await accounts.signer.sign(AccessTokenClaims(
            subject: .apiKey(ApiKeyID(key.id)), tenant: key.tenant,
            permissions: grant.permissions, scopes: grant.scopes, department: grant.department, lifetime: lifetime
        ))
        return TokenResponse(accessToken: token, refreshToken: nil, expiresIn: Int(lifetime), tokenType: "Bearer")
    }

    struct ApiKeyGrant: Sendable {
        let permissions: Set<Permission>
        let scopes: DataScopes
        let department: UUID?
        let expiresAt: Date?
    }

    struct JWKS: ResponseEncodable {
        struct Key: Encodable {
            let kty = "EC"
            let crv = "P-256"
            let alg = "ES256"
            let use = "sig"
            let kid: String
            let x: String
            let y: String
        }
        let keys: [Key]
    }

    @Sendable func jwks(request: Request, context: KefuRequestContext) async throws -> JWKS {
        JWKS(keys: [JWKS.Key(kid: accounts.signer.keyID, x: accounts.signer.publicKeyX, y: accounts.signer.publicKeyY)])
    }
}

extension AuthController.LoginResponse {
    init(_ tokens: TokenResponse) {
        self.init(
            accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: tokens.expiresIn,
            tokenType: tokens.tokenType, mfaRequired: false, challengeId: nil, phoneHint: nil
        )
    }
}
