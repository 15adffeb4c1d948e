import Foundation
import KefuModels
import PostgresNIO

/// Compiles a checked `ViewFilter` to SQL over the customer row `c`, on the fields' own types:
/// numbers compare as numbers, dates as dates, instants as instants. Every value — and a custom
/// field's API name — is a bound parameter; the text holds only what this file writes. Text
/// comparisons ignore case, as rules evaluate them; "not equal" and "does not contain" include
/// customers with no value, as rules do. Tags compare as stored (case kept), so that the GIN
/// index answers.
struct ViewCompiler {
    let fields: ViewFields

    func append(_ filter: ViewFilter, to q: inout SQLFragment) throws {
        let glue = filter.join == .all ? " AND " : " OR "
        var parts = 0
        q.sql("(")
        for condition in filter.conditions {
            if parts > 0 { q.sql(glue) }
            try append(condition, to: &q)
            parts += 1
        }
        for group in filter.groups ?? [] {
            if parts > 0 { q.sql(glue) }
            try append(ViewFilter(join: group.join, conditions: group.conditions, groups: nil), to: &q)
            parts += 1
        }
        if parts == 0 { q.sql(filter.join == .all ? "TRUE" : "FALSE") }
        q.sql(")")
    }

    private func append(_ condition: Condition, to q: inout SQLFragment) throws {
        guard let definition = fields.catalogue.fields[condition.field], let source = fields.sources[condition.field] else {
            preconditionFailure("compile only checked filters")
        }
        let value = condition.value
        switch (definition.type, source) {
        case (.multiChoice, .tags):
            try tags(condition.op, strings(value), &q)
        case (.multiChoice, .custom(let key)):
            try customList(key, condition.op, strings(value), &q)
        case (.text, .phones) where [.equals, .notEquals, .in, .notIn].contains(condition.op):
            // A phone equals one of the customer's numbers.
            let numbers = strings(value)
            if condition.op == .notEquals || condition.op == .notIn { q.sql("NOT ") }
            q.sql("(c.phones && "); try q.bind(numbers); q.sql("::text[])")
        default:
            try scalar(definition.type, condition.op, value, source, &q)
        }
    }

    /// The field as an SQL expression of its type.
    private func expression(_ type: FieldType, _ source: ViewFields.Source, _ q: inout SQLFragment) throws {
        switch source {
        case .column(let column):
            q.sql(type == .number ? "(\(column))::float8" : column)
        case .phones:
            q.sql("nullif(c.search_phones, '')")
        case .tags:
            q.sql("c.tags")
        case .custom(let key):
            // Values were checked against the field's type when written; the guards keep a
            // hand-edited row from failing a whole list.
            switch type {
            case .number:
                q.sql("(CASE WHEN jsonb_typeof(c.custom -> "); try q.bind(key); q.sql(") = 'number' THEN (c.custom ->> "); try q.bind(key)
                q.sql(")::float8 END)")
            case .date:
                q.sql("(CASE WHEN (c.custom ->> "); try q.bind(key); q.sql(") ~ '^\\d{4}-\\d{2}-\\d{2}$' THEN (c.custom ->> "); try q.bind(key)
                q.sql(")::date END)")
            case .dateTime:
                q.sql("(CASE WHEN jsonb_typeof(c.custom -> "); try q.bind(key); q.sql(") = 'string' THEN (c.custom ->> "); try q.bind(key)
                q.sql(")::timestamptz END)")
            default:
                q.sql("(c.custom ->> "); try q.bind(key); q.sql(")")
            }
        }
    }

    private func scalar(_ type: FieldType, _ op: ConditionOperator, _ value: ConditionValue?, _ source: ViewFields.Source, _ q: inout SQLFragment) throws {
        func field() throws { try expression(type, source, &q) }
        let isText = type == .text || type == .singleChoice
        // A choice is stored and asked for as one of its exact spellings (both are validated),
        // and a text with no letter case (上海, digits) equals case-insensitively only itself:
        // those compare exactly. `=` on text is leakproof and lower() is not, so under row-level
        // security only the exact form lets an index (0012_equality_indexes.sql) serve it.
        let exact = type == .singleChoice || (isText && strings(value).allSatisfy(Self.isCaseless))
        func compared() throws {
            if isText && !exact { q.sql("lower("); try field(); q.sql(")") } else { try field() }
        }
        func cased(_ texts: [String]) -> [String] { exact ? texts : texts.map { $0.lowercased() } }
        /// The value cast to the field's type.
        func operand(_ value: ConditionValue) throws {
            switch (type, value) {
            case (.number, .number(let number)): try q.bind(number); q.sql("::float8")
            case (.date, .string(let day)): try q.bind(day); q.sql("::date")
            case (.dateTime, .string(let instant)): try q.bind(instant); q.sql("::timestamptz")
            case (.boolean, .bool(let flag)): try q.bind(flag)
            case (_, .string(let text)): try q.bind(cased([text])[0])
            default: preconditionFailure("compile only checked filters")
            }
        }
        switch op {
        case .isEmpty:
            q.sql("("); try field(); q.sql(" IS NULL"); if isText { q.sql(" OR "); try field(); q.sql(" = ''") }; q.sql(")")
        case .isNotEmpty:
            q.sql("("); try field(); q.sql(" IS NOT NULL"); if isText { q.sql(" AND "); try field(); q.sql(" <> ''") }; q.sql(")")
        case .equals:
            try compared(); q.sql(" = "); try operand(value!)
        case .notEquals:
            q.sql("("); try field(); q.sql(" IS NULL OR "); try compared(); q.sql(" <> "); try operand(value!); q.sql(")")
        case .greaterThan, .after:
            try field(); q.sql(" > "); try operand(value!)
        case .greaterOrEqual:
            try field(); q.sql(" >= "); try operand(value!)
        case .lessThan, .before:
            try field(); q.sql(" < "); try operand(value!)
        case .lessOrEqual:
            try field(); q.sql(" <= "); try operand(value!)
        case .between:
            guard case .list(let bounds) = value!, bounds.count == 2 else { preconditionFailure("compile only checked filters") }
            q.sql("("); try field(); q.sql(" BETWEEN "); try operand(bounds[0]); q.sql(" AND "); try operand(bounds[1]); q.sql(")")
        case .contains:
            try field(); q.sql(" ILIKE "); try q.bind("%" + Self.escapeLike(try text(value)) + "%")
        case .notContains:
            q.sql("("); try field(); q.sql(" IS NULL OR "); try field(); q.sql(" NOT ILIKE "); try q.bind("%" + Self.escapeLike(try text(value)) + "%"); q.sql(")")
        case .startsWith:
            try field(); q.sql(" ILIKE "); try q.bind(Self.escapeLike(try text(value)) + "%")
        case .in:
            try compared(); q.sql(" = ANY("); try q.bind(cased(strings(value))); q.sql("::text[])")
        case .notIn:
            q.sql("("); try field(); q.sql(" IS NULL OR "); try compared(); q.sql(" <> ALL("); try q.bind(cased(strings(value))); q.sql("::text[]))")
        case .containsAny, .containsAll, .containsNone:
            preconditionFailure("compile only checked filters")
        }
    }

    private func tags(_ op: ConditionOperator, _ values: [String], _ q: inout SQLFragment) throws {
        switch op {
        case .containsAny: q.sql("c.tags && "); try q.bind(values); q.sql("::text[]")
        case .containsAll: q.sql("c.tags @> "); try q.bind(values); q.sql("::text[]")
        case .containsNone: q.sql("NOT (c.tags && "); try q.bind(values); q.sql("::text[])")
        case .isEmpty: q.sql("cardinality(c.tags) = 0")
        case .isNotEmpty: q.sql("cardinality(c.tags) > 0")
        default: preconditionFailure("compile only checked filters")
        }
    }

    private func customList(_ key: String, _ op: ConditionOperator, _ values: [String], _ q: inout SQLFragment) throws {
        func list() throws { q.sql("(CASE WHEN jsonb_typeof(c.custom -> "); try q.bind(key); q.sql(") = 'array' THEN c.custom -> "); try q.bind(key); q.sql(" END)") }
        switch op {
        case .containsAny: q.sql("coalesce("); try list(); q.sql(" ?| "); try q.bind(values); q.sql("::text[], false)")
        case .containsAll: q.sql("coalesce("); try list(); q.sql(" ?& "); try q.bind(values); q.sql("::text[], false)")
        case .containsNone: q.sql("NOT coalesce("); try list(); q.sql(" ?| "); try q.bind(values); q.sql("::text[], false)")
        case .isEmpty: q.sql("coalesce(jsonb_array_length("); try list(); q.sql("), 0) = 0")
        case .isNotEmpty: q.sql("coalesce(jsonb_array_length("); try list(); q.sql("), 0) > 0")
        default: preconditionFailure("compile only checked filters")
        }
    }

    private func strings(_ value: ConditionValue?) -> [String] {
        switch value {
        case .list(let items)?: items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        case .string(let text)?: [text]
        default: []
        }
    }

    private func text(_ value: ConditionValue?) throws -> String {
        guard case .string(let text)? = value else { preconditionFailure("compile only checked filters") }
        return text
    }

    /// True when lower-casing and upper-casing leave the text as it is (Chinese, digits, signs):
    /// then `lower(x) = text` holds exactly when `x = text`.
    static func isCaseless(_ text: String) -> Bool {
        text.lowercased() == text && text.uppercased() == text
    }

    /// A caller's text matched literally by LIKE: its own %, _ and \ escaped.
    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
