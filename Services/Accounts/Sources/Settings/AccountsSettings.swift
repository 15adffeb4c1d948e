import Foundation
import KefuCore

/// What only accounts reads from the environment (README lists it with the rest).
public struct AccountsSettings: Sendable {
    /// bcrypt cost; 12 in production, lower only in tests (minimum 4).
    public var bcryptCost: UInt8
    /// How long an unused refresh token lives (each use rotates it and starts again) …
    public var refreshTokenLifetime: TimeInterval
    /// … but never past this much after the sign-in that started the session.
    public var sessionLifetime: TimeInterval
    /// Access tokens exchanged for API keys live shorter than employees' tokens.
    public var apiKeyTokenLifetime: TimeInterval
    /// Failed sign-ins within `lockoutWindow` that lock the account name for `lockoutDuration`.
    public var lockoutThreshold: Int
    public var lockoutWindow: TimeInterval
    public var lockoutDuration: TimeInterval
    public var phoneCodeLifetime: TimeInterval
    public var phoneCodeAttempts: Int
    /// A new code for the same employee and purpose only this long after the last one was sent.
    public var smsResendInterval: TimeInterval
    /// Requests per `rateLimitWindow` on each anonymous auth route, per client address and per
    /// account (tenant and account name, or the challenge answered).
    public var rateLimitWindow: TimeInterval
    public var rateLimitPerAddress: Int
    public var rateLimitPerAccount: Int
    /// Where one-time codes are POSTed (the tenant's SMS gateway); nil writes them to the log.
    public var smsWebhookURL: String?
    /// Outbound webhook delivery: schedule, timeout, address guard.
    public var webhooks: WebhookDeliverySettings

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func number(_ name: String, _ fallback: Double) -> Double {
            environment[name].flatMap(Double.init) ?? fallback
        }
        bcryptCost = UInt8(min(max(number("KEFU_BCRYPT_COST", 12), 4), 31))
        refreshTokenLifetime = number("KEFU_REFRESH_TOKEN_TTL_SECONDS", 7 * 24 * 3600)
        sessionLifetime = number("KEFU_SESSION_LIFETIME_SECONDS", 30 * 24 * 3600)
        apiKeyTokenLifetime = number("KEFU_API_KEY_TOKEN_TTL_SECONDS", 300)
        lockoutThreshold = Int(number("KEFU_LOCKOUT_THRESHOLD", 5))
        lockoutWindow = number("KEFU_LOCKOUT_WINDOW_SECONDS", 900)
        lockoutDuration = number("KEFU_LOCKOUT_SECONDS", 900)
        phoneCodeLifetime = 300
        phoneCodeAttempts = 5
        smsResendInterval = number("KEFU_SMS_RESEND_SECONDS", 60)
        rateLimitWindow = number("KEFU_RATE_LIMIT_WINDOW_SECONDS", 60)
        rateLimitPerAddress = Int(number("KEFU_RATE_LIMIT_PER_ADDRESS", 100))
        rateLimitPerAccount = Int(number("KEFU_RATE_LIMIT_PER_ACCOUNT", 10))
        smsWebhookURL = environment["KEFU_SMS_WEBHOOK_URL"].flatMap { $0.isEmpty ? nil : $0 }
        webhooks = WebhookDeliverySettings(environment: environment)
    }
}
