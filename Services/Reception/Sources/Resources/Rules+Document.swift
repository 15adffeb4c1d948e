import Foundation
import KefuModels

extension GuideRule: ReceptionDocument {
    static var kind: ConfigKind { .guideRule }
    var uniqueName: String? { name }

    mutating func check(_ c: inout DocumentCheck) {
        c.text(&name, "name", length: 1...10)
        c.conditions(conditions, "conditions")
        c.count(messages.count, "messages", 1...GuideRule.maxMessages)
        for index in messages.indices {
            c.range(messages[index].intervalSeconds, "messages[\(index)].interval_seconds", 0...3600)
            c.message(&messages[index].content, "messages[\(index)].content")
        }
    }
}

extension AssignmentRule: ReceptionDocument {
    static var kind: ConfigKind { .assignmentRule }
    var uniqueName: String? { name }

    mutating func check(_ c: inout DocumentCheck) {
        c.text(&name, "name", length: 1...20)
        c.conditions(conditions, "conditions")
        c.count(targets.count, "targets", 1...AssignmentRule.maxTargets)
        for index in targets.indices { targets[index].check(&c, "targets[\(index)]") }
    }
}

extension AssignmentTarget {
    func check(_ c: inout DocumentCheck, _ field: String) {
        switch type {
        case .owner: c.check(id == nil, "\(field).id", "is not used for an owner target")
        case .group, .agent:
            guard let id else { return c.add("\(field).id", "is required for a \(type.rawValue) target", code: "required") }
            c.refer(type == .group ? .group : .agent, id, "\(field).id")
        }
    }
}
