import Foundation
import KefuModels

extension ReceptionGroup: ReceptionDocument {
    static var kind: ConfigKind { .group }
    var uniqueName: String? { name }

    mutating func check(_ c: inout DocumentCheck) {
        c.text(&name, "name", length: 1...30)
        memberIds = memberIds.uniqued()
        c.count(memberIds.count, "member_ids", 0...ReceptionGroup.maxMembers)
        for (index, member) in memberIds.enumerated() { c.refer(.agent, member, "member_ids[\(index)]") }
        c.range(perAgentLimit, "per_agent_limit", 1...100)
        queue.check(&c, prefix: "queue.")
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each kept at its first occurrence.
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
