import Foundation
import Hummingbird
import KefuCore
import KefuModels
import NIOCore
import PostgresNIO

/// CSV import (`customers.import`) and streamed export (`customers.export`) of the library.
/// An import applies each row in its own transaction: a bad row is reported with its line and
/// reasons and the good ones are kept; a row already imported (the same profile, by digest) is
/// skipped, so a re-run changes nothing and reports exactly what it did. An export writes any
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

    @Sendable func importCustomers(request: Request, context: KefuRequestContext) async throws -> Report {
        let principal = try context.requirePermission(.customersImport)
        let (fields, settings) = try await database.withTenant(principal.tenantID) { tx in
            (Dictionary(uniqueKeysWithValues: try await tx.customFields().map { ($0.apiName, $0) }), try await tx.librarySettings())
        }
        let known = Set(Self.profileColumns + [Self.ownerColumn] + Self.exportOnlyColumns + fields.keys.map { "custom.\($0)" })
        let sheet = try await CSVSheet.read(
            request, context: context, required: ["name"], allowed: known.contains,
            describeAllowed: (Self.profileColumns + [Self.ownerColumn, "custom.<api_name>"]).joined(separator: ", "), maxRows: Self.maxRows, maxBytes: 64 << 20
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var results: [RowResult] = []
        for (line, values) in sheet.records {
            var v = Validation()
            let input = Self.input(values, fields: fields, &v)
            var profile = Profile()
            if !input.name.isPresent { v.add("name", "is required", code: "required") }
            profile.apply(input, &v, settings: settings)
            var named: UUID?
            if let cell = values[Self.ownerColumn], !cell.isEmpty {
                named = UUID(uuidString: cell)
                if named == nil { v.add("owner_id", "must be an employee id", code: "wrong_type") }
            }
            let (owner, ownerGiven) = (named ?? principal.employeeID?.uuid, named != nil)
            let checked = (v, profile)
            do {
                let (result, id) = try await database.withTenant(principal.tenantID) { tx -> (String, UUID?) in
                    var (v, profile) = checked
                    profile.custom = try await tx.customValues(input.customFields.value, over: [:], creating: true, &v)
                    if ownerGiven, let owner { try await tx.checkOwner(owner, &v) }
                    try v.throwIfInvalid()
                    let digest = String(decoding: try encoder.encode(profile), as: UTF8.self)
                    // One importer per row content at a time: of two imports of one file, one creates
                    // the customer and the other finds it imported.
                    try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended(\("customers.import:\(tx.tenantID):" + digest), 0))")
                    let existing = try await tx.query("""
                        SELECT customer_id FROM customers.imported_rows WHERE digest = encode(sha256(convert_to(\(digest), 'UTF8')), 'hex')
                        """).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }.first
                    if let existing { return ("skipped", existing) }
                    let id = UUID()
                    try await tx.insertCustomer(id, profile, entered: true, owner: owner, team: nil)
                    try await tx.syncPhoneIdentities(of: id, from: [], to: profile.phones)
                    try await tx.publish(CustomerCreated(customerId: id, entered: true, by: principal.employeeID))
                    try await tx.query("""
                        INSERT INTO customers.imported_rows (tenant_id, digest, customer_id)
                        VALUES (\(tx.tenantID.uuid), encode(sha256(convert_to(\(digest), 'UTF8')), 'hex'), \(id))
                        """)
                    if owner != nil { try await tx.publishOwner(of: id) }
                    try await tx.applyRules(to: id)
                    return ("created", id)
                }
                results.append(RowResult(line: line, result: result, customerId: id, errors: []))
            } catch let problem as Problem {
                results.append(RowResult(line: line, result: "failed", customerId: nil, errors: problem.rowErrors))
            }
        }
        return Report(results)
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
