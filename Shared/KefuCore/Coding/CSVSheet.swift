import Foundation
import Hummingbird

/// An uploaded CSV file as named columns per record, with the line each record starts on: how
/// every import reads its body (accounts' organisation, the customer library).
public struct CSVSheet: Sendable {
    public let columns: [String]
    public let records: [(line: Int, values: [String: String])]

    /// Reads the request body (UTF-8 or GB18030, at most 5 MB unless `maxBytes` says otherwise): the first
    /// line names the columns (trimmed, lower-cased; `allowed` says which, or a predicate), every
    /// value is trimmed and loses the export's formula guard. 400 for text that is not CSV, 422
    /// for missing or unknown columns and for more than `maxRows` records.
    public static func read(
        _ request: Request, context: some RequestContext, required: [String], allowed: (String) -> Bool, describeAllowed: String,
        maxRows: Int, maxBytes: Int = 5 * 1024 * 1024
    ) async throws -> CSVSheet {
        let buffer = try await request.body.collect(upTo: maxBytes)
        // UTF-8 (Excel's "CSV UTF-8"), else GB18030 (its plain "CSV" on a Chinese Windows).
        // Chinese text in GB18030 is practically never valid UTF-8, so trying UTF-8 first
        // mistakes no GB18030 file for UTF-8.
        let bytes = Array(buffer.readableBytesView)
        guard let text = String(validating: bytes, as: UTF8.self) ?? LegacyChineseText.decode(bytes) else {
            throw Problem.badRequest(code: "malformed_csv", detail: "The file is neither UTF-8 nor GB18030 text (save it as \"CSV UTF-8\").")
        }
        let records: [CSV.Record]
        do {
            records = try CSV.parse(text)
        } catch let error as CSV.ParseError {
            throw Problem.badRequest(code: "malformed_csv", detail: "Line \(error.line): \(error.message).")
        }
        guard let header = records.first else { throw Problem.invalid("file", "is empty: the first line names the columns", code: "required") }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var v = Validation()
        for column in required where !columns.contains(column) { v.add("columns", "lacks the column \(column)", code: "missing_column") }
        for column in columns where !allowed(column) { v.add("columns", "has an unknown column \(column); known: \(describeAllowed)", code: "unknown_column") }
        v.check(records.count - 1 <= maxRows, "file", "has more than \(maxRows) rows; split it", code: "too_large")
        try v.throwIfInvalid()
        return CSVSheet(columns: columns, records: records.dropFirst().map { record in
            var values: [String: String] = [:]
            for (index, column) in columns.enumerated() where index < record.fields.count {
                values[column] = unescapeFormula(record.fields[index].trimmingCharacters(in: .whitespaces))
            }
            return (record.line, values)
        })
    }

    /// Undoes the export's protection against spreadsheet formulas (`'=…`).
    public static func unescapeFormula(_ value: String) -> String {
        guard value.hasPrefix("'"), let second = value.unicodeScalars.dropFirst().first.map(Character.init),
              CSV.formulaStarts.contains(second) else { return value }
        return String(value.dropFirst())
    }
}

extension Problem {
    /// A row's reasons: the field errors, or the problem itself as one entry.
    public var rowErrors: [FieldError] {
        fieldErrors.isEmpty ? [FieldError(field: "row", code: code, message: detail ?? title)] : fieldErrors
    }
}
