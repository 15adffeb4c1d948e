import Foundation
import Hummingbird
import KefuCore
import KefuModels
import NIOCore
import PostgresNIO

/// CSV import (`customers.import`) and streamed export (`customers.export`) of the library.
/// An import checks every row first, then writes the good ones a thousand per transaction in
/// set-based statements: a bad row is reported with its line and reasons and the good ones are
/// kept; a row already imported (the same profile, by digest) is skipped, so a re-run changes
/// nothing and reports exactly what it did. An export writes any
/// list (view, search, sort) page by page, so its memory stays flat whatever its size.
struct CustomersCSVController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/customers/import", use: importCustomers)
        router.get("/v1/customers/export", use: export)
    }

    static let maxRows = 100_000
    /// Profile columns, as the export writes them and the import reads them.
    static let profileColumns = [
        "name", "gender", "age", "birthday", "education", "region", "address", "company", "title", "phones", "emails", "status", "tags",
        "remark", "source", "follow_up_status", "funnel_stage",
    ]
    /// Columns only the export writes; an import accepts and ignores them, so an export can be fed back.
    static let exportOnlyColumns = ["id", "entered", "owner_team_id", "reception_count", "last_reception_at", "value_score", "created_at"]
    /// The owner of a row's customer: an active employee's id. An empty cell (or no such column)
    /// leaves the importer the owner, as before.
    static let ownerColumn = "owner_id"

    struct RowResult: Codable, Sendable {
        let line: Int
        /// created, skipped (imported before: a re-run) or failed.
        let result: String
        @LowercaseUUID var customerId: UUID?
        let errors: [FieldError]
    }

    struct Report: ResponseEncodable, Sendable {
        let created: Int
        let skipped: Int
        let failed: Int
        let rows: [RowResult]

        init(_ rows: [RowResult]) {
            self.rows = rows
            created = rows.count { $0.result == "created" }
            skipped = rows.count { $0.result == "skipped" }
            failed = rows.count { $0.result == "failed" }
        }
    }

    /// Several values in one cell: `;`, the full-width `；` or a line break between them.
    static func list(_ cell: String) -> [String] {
        cell.split(whereSeparator: { $0 == ";" || $0 == "；" || $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Excel marks a number typed as text with a leading apostrophe (`'13800000000`), which a
    /// phone number is: not part of the value.
    static func excelText(_ cell: String) -> String {
        cell.hasPrefix("'") ? String(cell.dropFirst()) : cell
    }

    /// One row as a profile request (empty cells are left out), and its custom values.
    static func input(_ values: [String: String], fields: [String: CustomFieldView], _ v: inout Validation) -> ProfileInput {
        var input = ProfileInput()
        func cell(_ column: String) -> String? { values[column].flatMap { $0.isEmpty ? nil : $0 } }
        func text(_ column: String) -> PatchField<String> { cell(column).map { .value($0) } ?? .absent }
        func contacts(_ column: String) -> PatchField<[ProfileInput.ContactInput]> {
            guard let cell = cell(column) else { return .absent }
            return .value(list(cell).map { ProfileInput.ContactInput(value: excelText($0), primary: nil) })
        }
        input.name = text("name"); input.gender = text("gender"); input.birthday = text("birthday")
        input.education = text("education"); input.region = text("region"); input.address = text("address")
        input.company = text("company"); input.title = text("title"); input.status = text("status"); input.remark = text("remark")
        input.source = text("source"); input.followUpStatus = text("follow_up_status"); input.funnelStage = text("funnel_stage")
        input.phones = contacts("phones"); input.emails = contacts("emails")
        if let tags = cell("tags") { input.tags = .value(list(tags)) }
        if let age = cell("age") {
            if let number = Int(age) { input.age = .value(number) } else { v.add("age", "must be a whole number", code: "wrong_type") }
        }
        var custom: [String: JSONValue] = [:]
        for (column, raw) in values where column.hasPrefix("custom.") && !raw.isEmpty {
            let key = String(column.dropFirst("custom.".count))
            switch fields[key]?.type {
            case "number":
                if let number = Double(raw) { custom[key] = .number(number) } else { v.add("custom_fields.\(key)", "must be a number", code: "wrong_type") }
            case "multiple_choice": custom[key] = .array(list(raw).map(JSONValue.string))
            default: custom[key] = .string(raw)
            }
        }
        if !custom.isEmpty { input.customFields = .value(custom) }
        return input
    }

    /// Rows written per transaction: large enough that a row costs a fraction of a statement,
    /// small enough that a transaction stays short and its locks few. Short matters beyond the
    /// import: every event consumer of the cluster waits for the oldest open writing transaction
    /// (`kefu.events_since`), so a batch's duration is the delay it adds to all event delivery
    /// (1,000 rows held analytics' consumer tens of seconds on a loaded test machine).
    static let batchSize = 250

    /// A created row as the import's audit record lists it.
    struct ImportedRow: Encodable, Sendable {
        let line: Int
        @LowercaseUUID var customerId: UUID
    }

    @Sendable func importCustomers(request: Request, context: KefuRequestContext) async throws -> Report {
        let principal = try context.requirePermission(.customersImport)
        let actor = AuditActor(context: context)
        // What every row is checked and scored against, read once for the whole file.
        let (fields, settings, rules) = try await database.withTenant(principal.tenantID) { tx in
            (Dictionary(uniqueKeysWithValues: try await tx.customFields().map { ($0.apiName, $0) }), try await tx.librarySettings(),
             try await tx.ruleSet())
        }
        let known = Set(Self.profileColumns + [Self.ownerColumn] + Self.exportOnlyColumns + fields.keys.map { "custom.\($0)" })
        let sheet = try await CSVSheet.read(
            request, context: context, required: ["name"], allowed: known.contains,
            describeAllowed: (Self.profileColumns + [Self.ownerColumn, "custom.<api_name>"]).joined(separator: ", "), maxRows: Self.maxRows, maxBytes: 64 << 20
        )
        // Owners and the values of employee fields, checked in one query for the whole file.
        let employeeColumns = [Self.ownerColumn] + fields.values.filter { $0.type == "employee" }.map { "custom.\($0.apiName)" }
        let named = Set(sheet.records.flatMap { record in employeeColumns.compactMap { record.values[$0].flatMap(UUID.init(uuidString:)) } })
        let activeEmployees = try await database.withTenant(principal.tenantID) { tx in try await tx.activeEmployees(among: named) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Every row is validated before anything is written, so a bad row is reported and never
        // half-written, and a batch holds good rows only.
        var results = [RowResult?](repeating: nil, count: sheet.records.count)
        var good: [ImportRow] = []
        let now = Date()
        for (index, (line, values)) in sheet.records.enumerated() {
            var v = Validation()
            let input = Self.input(values, fields: fields, &v)
            var profile = Profile()
            if !input.name.isPresent { v.add("name", "is required", code: "required") }
            profile.apply(input, &v, settings: settings)
            profile.custom = CustomFieldView.values(
                input.customFields.value, over: [:], creating: true, fields: fields, employees: activeEmployees, &v
            )
            var named: UUID?
            if let cell = values[Self.ownerColumn], !cell.isEmpty {
                named = UUID(uuidString: cell)
                if let named {
                    v.check(activeEmployees.contains(named), "owner_id", "is not an active employee", code: "not_found")
                } else {
                    v.add("owner_id", "must be an employee id", code: "wrong_type")
                }
            }
            do {
                try v.throwIfInvalid()
            } catch let problem as Problem {
                results[index] = RowResult(line: line, result: "failed", customerId: nil, errors: problem.rowErrors)
                continue
            }
            let owner = named ?? principal.employeeID?.uuid
            let (score, reasons) = rules.score(CustomerFacts.of(profile, createdAt: now, hasOwner: owner != nil, catalogue: rules.catalogue))
            good.append(ImportRow(
                index: index, profile: profile, owner: owner, digest: String(decoding: try encoder.encode(profile), as: UTF8.self),
                score: score, reasons: reasons
            ))
        }
        var start = 0
        while start < good.count {
            let batch = Array(good[start..<min(start + Self.batchSize, good.count)])
            start += batch.count
            let outcomes = try await database.withTenant(principal.tenantID) { tx in
                let outcomes = try await tx.importRows(batch, by: principal.employeeID, stages: settings.funnelStages)
                // One audit record per written batch, naming the customers it created and their lines.
                let created = outcomes.filter(\.created).map { ImportedRow(line: sheet.records[$0.index].line, customerId: $0.customerId) }
                if !created.isEmpty {
                    try await tx.publishAudit(actor, action: "customers.customers.imported", targetType: "customer", targetID: nil, after: created)
                }
                return outcomes
            }
            for outcome in outcomes {
                results[outcome.index] = RowResult(
                    line: sheet.records[outcome.index].line, result: outcome.created ? "created" : "skipped", customerId: outcome.customerId, errors: []
                )
            }
        }
        return Report(results.compactMap { $0 })
    }

    /// Every customer of a list (`view_id`, `q`, `sort`, `entered`, as `GET /v1/customers`), a page
    /// of 500 per transaction, written as it is read.
    @Sendable func export(request: Request, context: KefuRequestContext) async throws -> Response {
        let principal = try context.requirePermission(.customersExport)
        let asked = try CustomersController.listing(request)
        let database = self.database
        // Resolve the view before answering, so that a bad one is still a 422.
        let fields = try await database.withTenant(principal.tenantID) { tx in try await tx.customFields() }
        _ = try await database.withTenant(principal.tenantID) { tx in try await tx.resolve(asked, employee: principal.employeeID) }
        let header = ["id", "entered"] + Self.profileColumns + fields.map { "custom.\($0.apiName)" }
            + ["owner_id", "owner_team_id", "reception_count", "last_reception_at", "value_score", "created_at"]
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "\u{FEFF}" + CSV.line(header)))
            var listing = asked
            while true {
                let (page, sort) = try await database.withTenant(principal.tenantID) { [listing] tx in
                    let (resolved, viewFields) = try await tx.resolve(listing, employee: principal.employeeID)
                    let rows = try await tx.customers(
                        where: try resolved.condition(reach: try await tx.reach(of: principal), employee: principal.employeeID, fields: viewFields, paging: true),
                        order: resolved.sort.order, limit: 500
                    )
                    return (rows, resolved.sort)
                }
                var chunk = ""
                for customer in page { chunk += CSV.line(Self.row(customer, fields: fields)) }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                guard page.count == 500, let last = page.last else { break }
                listing.after = TimeCursor(sort.key.value(of: last), last.id)
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"customers.csv\""],
            body: body
        )
    }

    static func row(_ c: CustomerView, fields: [CustomFieldView]) -> [String] {
        func time(_ date: Date?) -> String { date.map(RFC3339.string(from:)) ?? "" }
        var cells = [c.id.uuidString.lowercased(), c.entered ? "true" : "false"]
        cells += [c.name ?? "", c.gender ?? "", c.age.map(String.init) ?? "", c.birthday ?? "", c.education ?? "", c.region ?? "", c.address ?? "",
                  c.company ?? "", c.title ?? "", c.phones.map(\.value).joined(separator: ";"), c.emails.map(\.value).joined(separator: ";"),
                  c.status ?? "", c.tags.joined(separator: ";"), c.remark ?? "", c.source ?? "", c.followUpStatus ?? "", c.funnelStage ?? ""]
        for field in fields {
            switch c.customFields[field.apiName] {
            case .string(let text)?: cells.append(text)
            case .number(let number)?: cells.append(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number))
            case .array(let items)?: cells.append(items.compactMap { if case .string(let s) = $0 { s } else { nil } }.joined(separator: ";"))
            default: cells.append("")
            }
        }
        cells += [c.ownerId?.uuidString.lowercased() ?? "", c.ownerTeamId?.uuidString.lowercased() ?? "", String(c.receptionCount),
                  time(c.lastReceptionAt), String(c.valueScore), time(c.createdAt)]
        return cells
    }
}
