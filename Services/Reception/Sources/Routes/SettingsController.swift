import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// A tenant-wide settings document: read with its defaults until first written.
protocol SettingsDocument: Codable, Sendable, ResponseEncodable {
    /// Its key in `reception.settings`, and the `kind` of its change events.
    static var key: String { get }
    static var defaults: Self { get }
    mutating func check(_ c: inout DocumentCheck)
}

/// `GET` and `PUT` of one settings document.
struct SettingsController<Document: SettingsDocument> {
    let reception: Reception
    let path: String
    let permission: Permission

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get(RouterPath(path), use: show)
        router.put(RouterPath(path), use: replace)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> Document {
        let tenant = try context.requirePermission(permission).tenantID
        return try await reception.database.withTenant(tenant) { tx in
            try await tx.setting(Document.key, as: Document.self)?.0 ?? Document.defaults
        }
    }

    @Sendable func replace(request: Request, context: KefuRequestContext) async throws -> Document {
        let tenant = try context.requirePermission(permission).tenantID
        let input = try await request.decode(as: Document.self, context: context)
        let actor = AuditActor(context: context)
        return try await reception.database.withTenant(tenant) { tx in
            var document = input
            var check = DocumentCheck(catalogue: try await tx.fieldCatalogue())
            document.check(&check)
            try await check.verify(in: tx)
            let before = try await tx.setting(Document.key, as: Document.self)?.0 ?? Document.defaults
            try await tx.saveSetting(Document.key, document)
            try await tx.configChanged(Document.key, action: "updated", by: actor, before: before, after: document)
            return document
        }
    }
}

extension FallbackPolicy: ResponseEncodable {}
extension FallbackPolicy: SettingsDocument {
    static var key: String { "settings.fallback" }
    static var defaults: FallbackPolicy { FallbackPolicy() }
    mutating func check(_ c: inout DocumentCheck) { check(&c, prefix: "") }
}

extension AssignmentSettings: ResponseEncodable {}
extension AssignmentSettings: SettingsDocument {
    static var key: String { "settings.assignment" }
    static var defaults: AssignmentSettings { AssignmentSettings() }
    mutating func check(_ c: inout DocumentCheck) {
        defaultTarget?.check(&c, "default_target")
    }
}

extension ConversationSettings: ResponseEncodable {}
extension ConversationSettings: SettingsDocument {
    static var key: String { "settings.conversation" }
    static var defaults: ConversationSettings { ConversationSettings() }
    mutating func check(_ c: inout DocumentCheck) {
        c.range(timeoutMinutes, "timeout_minutes", 1...1440)
        topics = topics.uniqued()
        c.count(topics.count, "topics", 0...100)
        for index in topics.indices { c.text(&topics[index], "topics[\(index)]", length: 1...30) }
        c.range(highQuality.minVisitorMessages, "high_quality.min_visitor_messages", 0...100)
        c.range(highQuality.minAgentMessages, "high_quality.min_agent_messages", 0...100)
        if let seconds = highQuality.maxFirstResponseSeconds { c.range(seconds, "high_quality.max_first_response_seconds", 1...3600) }
        if let stars = highQuality.minSatisfactionStars { c.range(stars, "high_quality.min_satisfaction_stars", 1...5) }
        if TimeZone(identifier: timeZone) == nil { c.add("time_zone", "is not an IANA time zone name, such as Asia/Shanghai") }
    }
}

extension EngagementSettings: ResponseEncodable {}
extension EngagementSettings: SettingsDocument {
    static var key: String { "settings.engagement" }
    static var defaults: EngagementSettings { EngagementSettings() }
    mutating func check(_ c: inout DocumentCheck) {
        c.range(antiLeak.remindAfterSeconds, "anti_leak.remind_after_seconds", 10...3600)
        c.range(invitation.delaySeconds, "invitation.delay_seconds", 0...600)
        c.text(&invitation.message, "invitation.message", length: 1...200)
        c.range(invitation.maxPerVisit, "invitation.max_per_visit", 1...5)
        leadCapture.when = leadCapture.when.uniqued()
        c.count(leadCapture.when.count, "lead_capture.when", 1...3)
        c.text(&leadCapture.prompt, "lead_capture.prompt", length: 1...200)
        c.count(leadCapture.questions.count, "lead_capture.questions", 1...6)
        c.check(Set(leadCapture.questions.map(\.field)).count == leadCapture.questions.count, "lead_capture.questions", "asks for a field twice")
    }
}

extension SatisfactionSurvey: ResponseEncodable {}
extension SatisfactionSurvey: SettingsDocument {
    static var key: String { "settings.satisfaction" }
    static var defaults: SatisfactionSurvey { SatisfactionSurvey() }
    mutating func check(_ c: inout DocumentCheck) {
        c.check(levels.map(\.stars).sorted() == [1, 2, 3, 4, 5], "levels", "must hold one level for each of 1 to 5 stars")
        levels.sort { $0.stars < $1.stars }
        for index in levels.indices {
            c.text(&levels[index].title, "levels[\(index)].title", length: 1...20)
            levels[index].labels = levels[index].labels.uniqued()
            c.count(levels[index].labels.count, "levels[\(index)].labels", 0...8)
            for label in levels[index].labels.indices {
                c.text(&levels[index].labels[label], "levels[\(index)].labels[\(label)]", length: 1...20)
            }
        }
        sendWhen = sendWhen.uniqued()
        c.count(sendWhen.count, "send_when", 1...2)
    }
}
