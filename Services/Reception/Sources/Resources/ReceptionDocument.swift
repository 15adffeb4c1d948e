import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// A kind of configured thing served by `ConfigController`: how it is validated and stored.
protocol ReceptionDocument: Codable, Sendable {
    static var kind: ConfigKind { get }
    /// Unique (case-insensitively) among the tenant's items of this kind, when the kind has one.
    var uniqueName: String? { get }
    /// Checks every field, normalising in place (trimmed text, deduplicated lists).
    mutating func check(_ c: inout DocumentCheck)
    /// Runs in the write transaction once the document is valid: server-set fields, limits the
    /// database enforces per tenant, and the row columns beside the document.
    static func prepare(
        _ document: inout Self, previous: Self?, id: UUID, in tx: TenantTransaction, reception: Reception
    ) async throws -> TenantTransaction.ItemColumns
    /// Runs in the delete transaction.
    static func removed(_ document: Self, id: UUID, in tx: TenantTransaction) async throws
    /// The list's query filters (`?reception_mode=`…), or nil when it has none.
    static func listFilter(_ request: Request) throws -> (@Sendable (Self) -> Bool)?
}

extension ReceptionDocument {
    var uniqueName: String? { nil }

    static func prepare(
        _ document: inout Self, previous: Self?, id: UUID, in tx: TenantTransaction, reception: Reception
    ) async throws -> TenantTransaction.ItemColumns {
        TenantTransaction.ItemColumns(name: document.uniqueName)
    }

    static func removed(_ document: Self, id: UUID, in tx: TenantTransaction) async throws {}

    static func listFilter(_ request: Request) throws -> (@Sendable (Self) -> Bool)? { nil }
}
