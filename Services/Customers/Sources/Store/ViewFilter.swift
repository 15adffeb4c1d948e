import Foundation
import KefuCore
import KefuModels

/// A view's filter in the condition language: conditions and nested groups joined by `all` or
/// `any` ("in Shanghai AND (tag vip OR budget over 1000)"). A group is itself a condition set, so
/// rules and views validate alike (`FieldCatalogue.compile`); one level of nesting is enough for
/// an AND of ORs or an OR of ANDs.
struct ViewFilter: Codable, Sendable, Equatable {
    var join: ConditionSet.Join
    var conditions: [Condition]
    var groups: [ConditionSet]?

    static let maxGroups = 10
    static let none = ViewFilter(join: .all, conditions: [], groups: nil)

    /// Every issue at once, with its JSON path under `path`.
    func check(against fields: ViewFields, path: String = "filter") throws {
        var issues: [ConditionIssue] = []
        do { _ = try fields.catalogue.compile(ConditionSet(join: join, conditions: conditions), path: "\(path).conditions") } catch {
            issues += error.issues
        }
        for (index, group) in (groups ?? []).enumerated() {
            do { _ = try fields.catalogue.compile(group, path: "\(path).groups[\(index)].conditions") } catch { issues += error.issues }
        }
        var problems = issues.map { FieldError(field: $0.path, code: $0.code, message: $0.message) }
        if (groups?.count ?? 0) > Self.maxGroups {
            problems.append(FieldError(field: "\(path).groups", code: "too_many", message: "holds at most \(Self.maxGroups) groups"))
        }
        if !problems.isEmpty { throw Problem.validation(problems) }
    }
}

/// What a view's condition may test, and where each field lives in `customers.customers`.
struct ViewFields: Sendable {
    enum Source: Sendable {
        /// A column (or expression over `c`) written by the service, never by a caller.
        case column(String)
        case phones
        case tags
        case custom(String)
    }

    let catalogue: FieldCatalogue
    let sources: [String: Source]

    static let builtIn: [(FieldDefinition, Source)] = [
        (.init(key: "customer.name", type: .text), .column("c.name")),
        (.init(key: "customer.gender", type: .singleChoice, choices: ["male", "female", "unknown"]), .column("c.gender")),
        (.init(key: "customer.age", type: .number), .column("c.age")),
        (.init(key: "customer.birthday", type: .date), .column("c.birthday")),
        (.init(key: "customer.education", type: .text), .column("c.education")),
        (.init(key: "customer.location", type: .text), .column("c.region")),
        (.init(key: "customer.address", type: .text), .column("c.address")),
        (.init(key: "customer.company", type: .text), .column("c.company")),
        (.init(key: "customer.title", type: .text), .column("c.title")),
        (.init(key: "customer.status", type: .text), .column("c.status")),
        (.init(key: "customer.remark", type: .text), .column("c.remark")),
        (.init(key: "customer.source", type: .text), .column("c.source")),
        (.init(key: "customer.phone", type: .text), .phones),
        (.init(key: "customer.tags", type: .multiChoice), .tags),
        (.init(key: "customer.date_added", type: .dateTime), .column("c.created_at")),
        (.init(key: "customer.last_reception_at", type: .dateTime), .column("c.last_reception_at")),
        (.init(key: "customer.reception_count", type: .number), .column("c.reception_count")),
        (.init(key: "customer.visit_count", type: .number), .column("c.visit_count")),
        (.init(key: "customer.value_score", type: .number), .column("c.value_score")),
        (.init(key: "customer.has_owner", type: .boolean), .column("(c.owner_id IS NOT NULL)")),
        (.init(key: "customer.entered", type: .boolean), .column("c.entered")),
        (.init(key: "customer.owner_id", type: .text), .column("c.owner_id::text")),
        (.init(key: "customer.owner_team_id", type: .text), .column("c.owner_team_id::text")),
    ]

    init(customFields: [CustomFieldView], settings: LibrarySettings) {
        let configured: [(FieldDefinition, Source)] = [
            (.init(key: "customer.follow_up_status", type: .singleChoice, choices: settings.followUpStatuses), .column("c.follow_up_status")),
            (.init(key: "customer.funnel_stage", type: .singleChoice, choices: settings.funnelStages), .column("c.funnel_stage")),
        ]
        var definitions = (Self.builtIn + configured).map(\.0)
        var sources = Dictionary(uniqueKeysWithValues: (Self.builtIn + configured).map { ($0.0.key, $0.1) })
        for field in customFields {
            definitions.append(FieldDefinition(key: "custom.\(field.apiName)", type: field.conditionType, choices: field.choices))
            sources["custom.\(field.apiName)"] = .custom(field.apiName)
        }
        self.catalogue = FieldCatalogue(definitions)
        self.sources = sources
    }
}
