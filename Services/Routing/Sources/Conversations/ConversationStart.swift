import Foundation
import KefuCore
import KefuModels

/// A visitor starts a conversation: which targets to try, in order (DOMAIN.md §3) — the customer's
/// owner first (when the settings say so and an owner is known), then the advanced assignment rules
/// (a widget in rules mode; the default target when none matches), or the widget's group, agent or
/// the visitor's navigation choice — then `ConversationPlacer` takes the first free seat, or
/// queues, or applies the fallback. Every step is written to the conversation's `routing_trace`.
struct ConversationStart {
    let snapshot: ReceptionSnapshot
    /// The web widget; nil for a channel user (partner, official account), who is received by
    /// the advanced assignment rules.
    let widget: ConfigItem<Widget>?
    /// The channel type (`visitor.channel`): `web`, `partner`, `wechat_official_account`.
    var channel = "web"

    struct Visitor: Sendable {
        let attributes: VisitorAttributes
        let visitCount: Int
        /// The customer's owner, when the customer library told routing of one.
        let owner: UUID?
    }

    /// The visitor's facts as rules test them.
    func facts(_ visitor: Visitor, now: Date = Date()) -> ConditionFacts {
        var facts = ConditionFacts(catalogue: FieldCatalogue.with(customFields: snapshot.customFields))
        facts.set("visitor.channel", .text(channel))
        if let widget { facts.set("visitor.widget_id", .text(widget.id.uuidString.lowercased())) }
        if let url = visitor.attributes.pageUrl { facts.set("visitor.page_url", .text(url)) }
        if let source = visitor.attributes.source { facts.set("visitor.source_ad", .text(source)) }
        if let region = visitor.attributes.region { facts.set("visitor.region", .text(region)) }
        facts.set("visitor.visit_count", .number(Double(visitor.visitCount)))
        // The visitor's arrival on the tenant's clock (reception's conversation settings).
        let zone = TimeZone(identifier: snapshot.conversation.timeZone) ?? TimeZone(identifier: ConversationSettings.defaultTimeZone)!
        let parts = Calendar(identifier: .gregorian).dateComponents(in: zone, from: now)
        facts.set("visitor.visit_time", .timeOfDay((parts.hour ?? 0) * 60 + (parts.minute ?? 0)))
        facts.set("customer.has_owner", .bool(visitor.owner != nil))
        return facts
    }

    /// The targets to try, in order, and the trace of how they were chosen. `choice`: the group a
    /// self-service visitor picked (it must be one of the widget's navigation options).
    func targets(for visitor: Visitor, choice: UUID?) throws -> ([ConversationPlacer.Target], [ConversationPlacer.TraceStep]) {
        var trace: [ConversationPlacer.TraceStep] = []
        var targets: [ConversationPlacer.Target] = []
        if snapshot.assignment.ownerFirst, let owner = visitor.owner {
            targets.append(.agent(owner, .owner))
            trace.append(.init(step: "owner", detail: "the customer's owner \(owner.uuidString.lowercased()) first"))
        }
        let reception = widget?.document.reception
        switch reception?.mode ?? .rules {
        case .group:
            if let group = reception?.groupId { targets.append(.group(group, .widget)) }
            trace.append(.init(step: "widget", detail: "group mode"))
        case .agent:
            if let agent = reception?.agentId { targets.append(.agent(agent, .widget)) }
            trace.append(.init(step: "widget", detail: "single-agent mode"))
        case .selfService:
            let options = reception?.navigation ?? []
            if let choice {
                guard options.contains(where: { $0.groupId == choice }) else {
                    throw Problem.invalid("group_id", "is not one of this widget's navigation choices", code: "not_found")
                }
                targets.append(.group(choice, .widget))
            } else if let first = options.first {
                targets.append(.group(first.groupId, .widget))
            }
            trace.append(.init(step: "widget", detail: "self-service navigation"))
        case .rules:
            let facts = facts(visitor)
            let catalogue = FieldCatalogue.with(customFields: snapshot.customFields)
            let matched = snapshot.assignmentRules.first { rule in
                rule.document.enabled && ((try? catalogue.compile(rule.document.conditions))?.matches(facts) ?? false)
            }
            let chosen: [AssignmentTarget]
            let reason: AssignmentReason = matched == nil ? .defaultTarget : .rule
            if let matched {
                chosen = matched.document.targets
                trace.append(.init(step: "assignment_rule", detail: "rule \(matched.id.uuidString.lowercased()) (\(matched.document.name)) matched"))
            } else if let fallback = snapshot.assignment.defaultTarget {
                chosen = [fallback]
                trace.append(.init(step: "assignment_rule", detail: "no rule matched: the default target"))
            } else {
                // No default target: any available agent, group by group.
                chosen = snapshot.groups.map { AssignmentTarget(type: .group, id: $0.id) }
                trace.append(.init(step: "assignment_rule", detail: "no rule matched and no default target: every group"))
            }
            for target in chosen {
                switch target.type {
                case .group: if let id = target.id { targets.append(.group(id, reason)) }
                case .agent: if let id = target.id { targets.append(.agent(id, reason)) }
                case .owner: if let owner = visitor.owner, !targets.contains(where: { $0.id == owner }) { targets.append(.agent(owner, .owner)) }
                }
            }
        }
        return (targets, trace)
    }

    /// The first enabled guide rule matching the visitor, when the widget runs guide rules.
    func guideRule(for visitor: Visitor) -> ConfigItem<GuideRule>? {
        guard let widget, widget.document.guideRulesEnabled else { return nil }
        let facts = facts(visitor)
        let catalogue = FieldCatalogue.with(customFields: snapshot.customFields)
        return snapshot.guideRules.first { rule in
            rule.document.enabled && ((try? catalogue.compile(rule.document.conditions))?.matches(facts) ?? false)
        }
    }

    /// The widget's own fallback, else the tenant's.
    var fallback: FallbackPolicy { widget?.document.fallback ?? snapshot.fallback }
}
