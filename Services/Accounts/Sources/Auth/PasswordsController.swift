import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// Admin password resets (one or many) and "forgot password" with a phone code.
struct PasswordsController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/employees/password-resets", use: adminReset)
        router.post("/v1/auth/password/forgot", use: forgot)
        router.post("/v1/auth/password/reset", use: reset)
    }

    struct AdminResetRequest: Decodable {
        let employeeIds: [UUID]
        let newPassword: String
    }

    struct AdminResetResponse: ResponseEncodable {
        @LowercaseUUID var reset: [UUID]
    }

    /// Sets one password for the listed employees (within the caller's scope) and ends their sessions.
    @Sendable func adminReset(request: Request, context: KefuRequestContext) async throws -> AdminResetResponse {
        let principal = try context.requirePermission(.enterpriseOrganisation)
        let body = try await request.decode(as: AdminResetRequest.self, context: context)
        var v = Validation()
        v.check(!body.employeeIds.isEmpty && body.employeeIds.count <= 500, "employee_ids", "must list 1 to 500 employees")
        PasswordHasher.validate(body.newPassword, field: "new_password", into: &v)
        try v.throwIfInvalid()
        let hash = try await accounts.hasher.hash(body.newPassword)
        let actor = AuditActor(context: context)
        let ids = Array(Set(body.employeeIds))
        try await accounts.database.withTenant(principal.tenantID) { [accounts] tx in
            let reach = try await tx.reach(of: principal)
            let authority = try await tx.authority(of: principal)
            for (index, id) in body.employeeIds.enumerated() {
                try await referenced("employee_ids[\(index)]") { _ = try await tx.reachableEmployee(id, reach: reach) }
                try await tx.requireWithin(authority, employee: id)
            }
            for id in ids {
                try await accounts.setPassword(tx, employee: id, hash: hash)
                try await accounts.revokeAllSessions(tx, employee: id, reason: "password_reset")
                try await tx.audit(actor, action: "employee.password_reset", targetType: "employee", targetID: id.uuidString.lowercased())
            }
        }
        return AdminResetResponse(reset: ids)
    }

    struct ForgotRequest: Decodable {
        let tenant: String
        let account: String
    }

    struct ForgotResponse: ResponseEncodable {
        @LowercaseUUID var challengeId: UUID
        let expiresIn: Int
    }

    /// Always answers the same way, so it cannot be used to learn which accounts exist or have a
    /// phone: before answering it does only what it does for any name (validate, count the
    /// request), and it answers with the id the challenge will have. Looking the account up,
    /// making the code and sending it happen after the answer; a code is sent only when the
    /// account exists and has a phone. One request per account name per `smsResendInterval`.
    @Sendable func forgot(request: Request, context: KefuRequestContext) async throws -> EditedResponse<ForgotResponse> {
        let body = try await request.decode(as: ForgotRequest.self, context: context)
        var v = Validation()
        EmployeeInput.validateAccount(body.account, field: "account", into: &v)
        try v.throwIfInvalid()
        try await accounts.limitRequests(
            "forgot", context: context, account: "\(body.tenant)/\(body.account)",
            perAccount: 1, accountWindow: accounts.settings.smsResendInterval
        )
        let actor = AuditActor(context: context)
        let challengeID = UUID()
        accounts.afterAnswering("password reset code", logger: context.logger) { [accounts] in
            guard let tenant = try await accounts.activeTenant(slug: body.tenant) else { return }
            let challenge = try await accounts.database.withTenant(tenant) { [accounts] tx -> PhoneChallenge? in
                try await tx.audit(actor, action: "auth.password_forgot", targetType: "account", targetID: body.account)
                guard let employee = try await tx.employee(account: body.account), employee.status == "active" else { return nil }
                return try await accounts.createChallenge(tx, employee: employee, purpose: "password_reset", id: challengeID)
            }
            if let challenge { try await accounts.send(challenge, tenant: tenant, purpose: "password_reset") }
        }
        return EditedResponse(status: .accepted, response: ForgotResponse(challengeId: challengeID, expiresIn: Int(accounts.settings.phoneCodeLifetime)))
    }

    struct ResetRequest: Decodable {
        let tenant: String
        let challengeId: UUID
        let code: String
        let newPassword: String
    }

    /// The code is checked before anything is hashed. Every failure answers the same (wrong,
    /// expired, used, unknown or locked), so that a challenge id from `forgot` does not tell
    /// whether its account exists.
    @Sendable func reset(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: ResetRequest.self, context: context)
        var v = Validation()
        PasswordHasher.validate(body.newPassword, field: "new_password", into: &v)
        try v.throwIfInvalid()
        try await accounts.limitRequests("reset", context: context, account: "\(body.tenant)/\(body.challengeId)")
        let refused = Problem(.unauthorized, code: "invalid_code", detail: "The code is wrong, has expired or was used; check it or ask for a new one.")
        guard let tenant = try await accounts.activeTenant(slug: body.tenant) else { throw refused }
        let actor = AuditActor(context: context)
        let passed = try await accounts.database.withTenant(tenant) { [accounts] tx -> Bool in
            guard case .passed(let employee) = try await accounts.checkChallenge(
                tx, id: body.challengeId, code: body.code, purpose: "password_reset"
            ) else { return false }
            // Hashed inside the transaction that consumed the code: only a right code gets here.
            let hash = try await accounts.hasher.hash(body.newPassword)
            try await accounts.setPassword(tx, employee: employee, hash: hash)
            try await accounts.revokeAllSessions(tx, employee: employee, reason: "password_reset")
            try await tx.audit(actor, action: "employee.password_reset_by_phone", targetType: "employee", targetID: employee.uuidString.lowercased())
            return true
        }
        guard passed else { throw refused }
        return .noContent
    }
}
