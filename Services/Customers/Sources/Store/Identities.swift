import Foundation
import KefuCore

/// The kinds of identity a customer has (web visitor id, WeChat openid per official account,
/// unionid, QQ, phone, email, partner external id) and what each needs.
enum Identities {
    /// Kinds whose external id only means something within a channel: an openid within its
    /// official account, a partner id within its partner channel.
    static let perChannel: Set<String> = ["wechat_openid", "partner"]
    /// Identifiers that name one person whatever the channel: the same unionid or phone on two
    /// customers means one person, and they merge. Every other kind may differ per channel or be
    /// shared (a family's QQ), so a clash there is refused, never merged by guesswork.
    static let strong: Set<String> = ["wechat_unionid", "phone"]
    static let kinds: Set<String> = ["web_visitor", "wechat_openid", "wechat_unionid", "qq", "phone", "email", "partner"]

    /// Validates identities given in a request: the kind known, a channel exactly where the kind
    /// needs one, an external id of 1 to 200 characters.
    /// `field` names a member of the identity at an index in errors (a request's query names
    /// them bare: `{ _, name in name }`).
    static func check(
        _ identities: [CustomerView.Identity], _ v: inout Validation,
        field: (Int, String) -> String = { "identities[\($0)].\($1)" }
    ) -> [CustomerView.Identity] {
        var result: [CustomerView.Identity] = []
        for (index, identity) in identities.enumerated() {
            func path(_ name: String) -> String { field(index, name) }
            guard kinds.contains(identity.kind) else {
                v.add(path("kind"), "must be one of \(kinds.sorted().joined(separator: ", "))", code: "invalid_choice")
                continue
            }
            let channel = identity.channel?.trimmingCharacters(in: .whitespaces)
            if perChannel.contains(identity.kind) {
                v.check(!(channel ?? "").isEmpty, path("channel"), "is required for \(identity.kind)", code: "required")
            } else {
                v.check((channel ?? "").isEmpty, path("channel"), "must be absent for \(identity.kind)", code: "not_allowed")
            }
            guard let external = v.text(identity.externalId, path("external_id"), length: 1...200) else { continue }
            if identity.kind == "web_visitor" {
                v.check(UUID(uuidString: external) != nil, path("external_id"), "must be a visitor id (a UUID)", code: "invalid_format")
            }
            let normalised = CustomerView.Identity(
                kind: identity.kind, channel: perChannel.contains(identity.kind) ? channel : nil,
                externalId: identity.kind == "web_visitor" || identity.kind == "email" ? external.lowercased() : external
            )
            if !result.contains(normalised) { result.append(normalised) }
        }
        return result
    }
}
