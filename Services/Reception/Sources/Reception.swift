import Foundation
import KefuCore
import KefuModels
import Logging

/// Everything the reception routes and consumers share: built once per process.
public struct Reception: Sendable {
    public let resources: ServiceResources
    /// Seals channel credentials (KEFU_SECRETS_KEY_FILE).
    public let secrets: SecretBox
    let snapshots = SnapshotCache()

    public var database: Database { resources.database }
    public var logger: Logger { resources.logger }

    public init(resources: ServiceResources) throws {
        self.resources = resources
        self.secrets = try SecretBox.load(file: resources.config.secretsKeyFile)
    }
}
