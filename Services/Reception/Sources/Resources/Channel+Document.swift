import Foundation
import KefuCore
import KefuModels

extension Channel: ReceptionDocument {
    static var kind: ConfigKind { .channel }
    var uniqueName: String? { name }

    mutating func check(_ c: inout DocumentCheck) {
        c.text(&name, "name", length: 1...30)
        if type == .partner {
            c.url(outboundUrl, "outbound_url")
        } else {
            c.check(outboundUrl == nil, "outbound_url", "is only for partner channels")
        }
        guard let credentials else { return }
        let allowed = Set(type.credentialKeys + type.optionalCredentialKeys)
        for key in credentials.keys.sorted() where !allowed.contains(key) {
            c.add("credentials.\(key)", "is not a credential of a \(type.rawValue) channel (\((type.credentialKeys + type.optionalCredentialKeys).joined(separator: ", ")))", code: "unknown_credential")
        }
        for (key, value) in credentials where allowed.contains(key) {
            c.check(!value.isEmpty && value.count <= 512, "credentials.\(key)", "must be 1 to 512 characters")
        }
        if type == .wechatOfficialAccount || type == .miniProgram || type == .wechatCustomerService,
           let aesKey = credentials["encoding_aes_key"] {
            // WeChat's EncodingAESKey: 43 base64 characters (a 32-byte key without its padding).
            c.check(aesKey.count == 43 && Data(base64Encoded: aesKey + "=") != nil, "credentials.encoding_aes_key", "must be the 43-character EncodingAESKey")
        }
        if let previous = credentials["previous_encoding_aes_key"] {
            c.check(previous.count == 43 && Data(base64Encoded: previous + "=") != nil, "credentials.previous_encoding_aes_key", "must be the 43-character EncodingAESKey")
        }
    }

    static func prepare(
        _ channel: inout Channel, previous: Channel?, id: UUID, in tx: TenantTransaction, reception: Reception
    ) async throws -> TenantTransaction.ItemColumns {
        var sealed: String?
        if let previous {
            if previous.type != channel.type {
                throw Problem.invalid("type", "cannot change; create another channel", code: "immutable")
            }
        } else if channel.type == .wechatOfficialAccount {
            // Items of a kind are written one at a time per tenant (insertItem's lock), which
            // also serialises this count.
            try await tx.lockKind(.channel)
            if try await tx.count(.channel, subtype: ChannelType.wechatOfficialAccount.rawValue) >= Channel.officialAccountLimit {
                throw Problem.conflict(
                    code: "official_account_limit",
                    detail: "A tenant may bind at most \(Channel.officialAccountLimit) WeChat official accounts."
                )
            }
        }
        if let credentials = channel.credentials {
            // Credentials sent replace the stored ones key by key; keys not sent are kept.
            var merged = credentials
            if previous != nil, let stored = try await tx.sealedCredentials(of: id) {
                let old = try KefuJSON.decoder().decode([String: String].self, from: Data(try reception.secrets.open(stored).utf8))
                merged = old.merging(credentials) { $1 }
            }
            sealed = try reception.secrets.seal(TenantTransaction.json(merged))
            channel.credentials = merged.mapValues(Self.mask)
        } else {
            channel.credentials = previous?.credentials
        }
        let missing = channel.type.credentialKeys.filter { channel.credentials?[$0] == nil }
        if !missing.isEmpty {
            var v = Validation()
            for key in missing { v.add("credentials.\(key)", "is required for a \(channel.type.rawValue) channel", code: "required") }
            try v.throwIfInvalid()
        }
        return .init(name: channel.name, subtype: channel.type.rawValue, sealedCredentials: sealed)
    }

    static func removed(_ channel: Channel, id: UUID, in tx: TenantTransaction) async throws {
        try await tx.deleteSetting(AutoReplyController.key(id))
    }

    /// What reads show of a credential: its last four characters at most, never the whole.
    static func mask(_ value: String) -> String {
        value.count >= 12 ? "••••" + value.suffix(4) : "••••"
    }
}
