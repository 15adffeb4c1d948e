import Foundation
import KefuCore
import KefuModels
import Logging
import NIOCore

/// Everything the accounts routes share: built once per process.
public struct Accounts: Sendable {
    public let resources: ServiceResources
    public let settings: AccountsSettings
    public let signer: TokenSigner
    public let hasher: PasswordHasher
    public let sms: any SMSSender
    /// Encrypts the secrets accounts must read back (webhook signing secrets).
    public let secrets: SecretBox
    /// `/v1/me` answers (encoded) by employee; any change of the tenant (or a minute) forgets them.
    let profiles: TenantCache<EmployeeID, ByteBuffer>
    /// The anonymous auth routes' limits per address and account.
    let rateLimiter: RateLimiter

    /// The platform role's pool (`kefu_platform`): the one cross-tenant listing of the platform
    /// routes; everything else goes through `database`, in one tenant.
    let platformDatabase: Database
    /// Sends due webhook deliveries (a background service of every replica).
    let webhookDispatcher: WebhookDispatcher

    public var database: Database { resources.database }
    public var logger: Logger { resources.logger }

    public init(resources: ServiceResources, settings: AccountsSettings) async throws {
        let keyFile = resources.config.jwtPrivateKeyFile
        guard let pem = try? String(contentsOfFile: keyFile, encoding: .utf8) else {
            throw AccountsStartupError(message: "cannot read the token signing key \(keyFile) (KEFU_JWT_PRIVATE_KEY_FILE); `make run` creates one")
        }
        self.resources = resources
        self.settings = settings
        self.signer = try await TokenSigner(privateKeyPEM: pem)
        self.hasher = PasswordHasher(cost: settings.bcryptCost, metrics: resources.metrics)
        self.secrets = try SecretBox.load(file: resources.config.secretsKeyFile)
        self.platformDatabase = Database(
            url: try DatabaseURL(resources.config.platformDatabaseURL), poolSize: 1,
            applicationName: "kefu-accounts-platform", logger: resources.logger
        )
        self.profiles = TenantCache(changes: resources.database.changes, capacity: 20_000, lifetime: .seconds(60))
        self.webhookDispatcher = WebhookDispatcher(
            database: resources.database, reader: resources.eventReader, secrets: secrets, settings: settings.webhooks,
            logger: resources.logger
        )
        self.rateLimiter = RateLimiter(database: resources.database, schema: "accounts")
        if let url = settings.smsWebhookURL {
            self.sms = WebhookSMSSender(url: url, logger: resources.logger)
        } else {
            self.sms = LogSMSSender(logger: resources.logger)
        }
    }
}

struct AccountsStartupError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
