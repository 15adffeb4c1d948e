import Foundation
import Hummingbird
import KefuCore
import KefuModels

extension Widget: ReceptionDocument {
    static var kind: ConfigKind { .widget }
    var uniqueName: String? { name }

    mutating func check(_ c: inout DocumentCheck) {
        c.text(&name, "name", length: 1...10)
        c.check(colour.range(of: #"^#[0-9A-Fa-f]{6}$"#, options: .regularExpression) != nil, "colour", "must be #RRGGBB")
        colour = colour.lowercased()
        c.count(preAssignmentMessages.count, "pre_assignment_messages", 0...5)
        for index in preAssignmentMessages.indices {
            c.text(&preAssignmentMessages[index], "pre_assignment_messages[\(index)]", length: 1...200)
        }
        checkReception(&c)
        c.count(mountPositions.count, "mount_positions", 0...Widget.maxMountPositions)
        for index in mountPositions.indices {
            c.text(&mountPositions[index].pageName, "mount_positions[\(index)].page_name", length: 1...50)
            c.url(mountPositions[index].url, "mount_positions[\(index)].url")
        }
        c.count(extraEntries.count, "extra_entries", 0...10)
        for index in extraEntries.indices {
            c.text(&extraEntries[index].label, "extra_entries[\(index)].label", length: 1...20)
            c.url(extraEntries[index].url, "extra_entries[\(index)].url")
        }
        fallback?.check(&c, prefix: "fallback.")
    }

    private mutating func checkReception(_ c: inout DocumentCheck) {
        let mode = reception.mode
        c.check((reception.groupId != nil) == (mode == .group), "reception.group_id", mode == .group ? "is required in group mode" : "is only for group mode")
        c.check((reception.agentId != nil) == (mode == .agent), "reception.agent_id", mode == .agent ? "is required in agent mode" : "is only for agent mode")
        c.check((reception.navigation != nil) == (mode == .selfService), "reception.navigation",
                mode == .selfService ? "is required in self_service mode" : "is only for self_service mode")
        if let group = reception.groupId { c.refer(.group, group, "reception.group_id") }
        if let agent = reception.agentId { c.refer(.agent, agent, "reception.agent_id") }
        if reception.navigation != nil {
            c.count(reception.navigation!.count, "reception.navigation", 1...10)
            for index in reception.navigation!.indices {
                c.text(&reception.navigation![index].label, "reception.navigation[\(index)].label", length: 1...20)
                c.refer(.group, reception.navigation![index].groupId, "reception.navigation[\(index)].group_id")
            }
        }
    }

    static func prepare(
        _ widget: inout Widget, previous: Widget?, id: UUID, in tx: TenantTransaction, reception: Reception
    ) async throws -> TenantTransaction.ItemColumns {
        if let key = previous?.publicKey {
            widget.publicKey = key
        } else {
            let key = "wk_" + RandomToken.make(bytes: 18)
            widget.publicKey = key
            try await tx.query("INSERT INTO reception.widget_keys (public_key, tenant_id, widget_id) VALUES (\(key), \(tx.tenantID.uuid), \(id))")
        }
        return .init(name: widget.name)
    }

    static func removed(_ widget: Widget, id: UUID, in tx: TenantTransaction) async throws {
        try await tx.query("DELETE FROM reception.widget_keys WHERE widget_id = \(id) AND tenant_id = \(tx.tenantID.uuid)")
    }

    /// `?reception_mode=group&mount_url=https://…&page_name=…`
    static func listFilter(_ request: Request) throws -> (@Sendable (Widget) -> Bool)? {
        let query = request.uri.queryParameters
        var mode: WidgetReception.Mode?
        if let raw = query["reception_mode"] {
            guard let parsed = WidgetReception.Mode(rawValue: String(raw)) else {
                throw Problem.invalid("reception_mode", "must be one of \(WidgetReception.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            mode = parsed
        }
        let url = query["mount_url"].map(String.init)
        let page = query["page_name"].map(String.init)
        guard mode != nil || url != nil || page != nil else { return nil }
        let wanted = mode
        return { widget in
            (wanted == nil || widget.reception.mode == wanted)
                && (url == nil || widget.mountPositions.contains { $0.url == url })
                && (page == nil || widget.mountPositions.contains { $0.pageName == page })
        }
    }
}

extension FallbackPolicy {
    /// `prefix` is the path of the policy inside the body ("fallback."), empty at the top.
    mutating func check(_ c: inout DocumentCheck, prefix: String) {
        queue.check(&c, prefix: prefix + "queue.")
        c.text(&leaveMessagePrompt, prefix + "leave_message_prompt", length: 1...200)
    }
}

extension QueuePolicy {
    func check(_ c: inout DocumentCheck, prefix: String) {
        c.range(maxLength, prefix + "max_length", 1...1000)
        c.range(maxWaitSeconds, prefix + "max_wait_seconds", 10...7200)
    }
}
