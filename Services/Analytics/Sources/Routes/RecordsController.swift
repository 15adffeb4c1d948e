import Foundation
import Hummingbird
import KefuCore
import KefuModels
import NIOCore

/// Conversation records (会话记录, `analytics.records`): `GET /v1/analytics/conversations`, every
/// filter of DOMAIN §5 including message text, keyset-paged newest first; as CSV (streamed, 500
/// records per transaction, `analytics.export` too) with the same rows and numbers; and one
/// record by id.
struct RecordsController {
    let analytics: Analytics

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/analytics/conversations", use: list)
        router.get("/v1/analytics/conversations/{id}", use: show)
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Response {
        let principal = try context.requirePermission(.analyticsRecords)
        let format = try ReportFormat(request: request)
        if format == .csv { try context.requirePermission(.analyticsExport) }
        let settings = try await analytics.settings(of: principal.tenantID)
        let filter = try RecordFilter(request: request, timeZone: settings.timeZone)
        let database = analytics.database
        if format == .csv {
            let body = ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "\u{FEFF}" + CSV.line(ConversationRecord.csvHeader)))
                var after: TimeCursor?
                while true {
                    let page = try await database.withTenant(principal.tenantID) { [after] tx in
                        try await tx.records(
                            filter, definition: settings.highQuality, reach: try await tx.reachableAgents(of: principal), after: after, limit: 500
                        )
                    }
                    let chunk = page.map { CSV.line($0.csvRow) }.joined()
                    if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                    guard page.count == 500, let last = page.last else { break }
                    after = TimeCursor(last.startedAt, last.id)
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: CSVResponse.headers(filename: "conversations.csv"), body: body)
        }
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: TimeCursor.self)
        let rows = try await database.withTenant(principal.tenantID) { tx in
            try await tx.records(
                filter, definition: settings.highQuality, reach: try await tx.reachableAgents(of: principal), after: after, limit: page.limit + 1
            )
        }
        return try page.page(from: rows) { TimeCursor($0.startedAt, $0.id) }.response(from: request, context: context)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> ConversationRecord {
        let principal = try context.requirePermission(.analyticsRecords)
        let id = try context.parameters.uuid(what: "conversation")
        let settings = try await analytics.settings(of: principal.tenantID)
        let record = try await analytics.database.withTenant(principal.tenantID) { tx in
            try await tx.record(id, definition: settings.highQuality, reach: try await tx.reachableAgents(of: principal))
        }
        guard let record else { throw Problem.notFound("conversation") }
        return record
    }
}

/// How every analytics table is answered as CSV.
enum CSVResponse {
    static func headers(filename: String) -> HTTPFields {
        [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""]
    }

    /// A small table (one row per agent, key or widget), written at once after a byte-order mark for Excel.
    static func table(_ header: [String], _ rows: [[String]], filename: String) -> Response {
        let text = "\u{FEFF}" + CSV.line(header) + rows.map(CSV.line).joined()
        return Response(status: .ok, headers: headers(filename: filename), body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
