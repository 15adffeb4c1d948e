import Foundation

/// RFC 4180 CSV: quoted fields (with doubled quotes, commas and line breaks inside), CRLF or LF.
/// Our own rather than a library's because imports must report the line each record starts
/// on, which the available parsers do not track.
public enum CSV {
    public struct Record: Sendable {
        /// 1-based line of the file where the record starts (the header is line 1).
        public let line: Int
        public let fields: [String]
    }

    public struct ParseError: Error, Sendable {
        public let line: Int
        public let message: String
    }

    /// Parses the whole text; a leading byte-order mark is ignored and blank lines are skipped.
    public static func parse(_ text: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var line = 1
        var recordLine = 1
        var characters = text.hasPrefix("\u{FEFF}") ? Substring(text.dropFirst()) : Substring(text)

        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            field = ""
            fieldWasQuoted = false
        }

        while let character = characters.popFirst() {
            if inQuotes {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        inQuotes = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty && !fieldWasQuoted:
                inQuotes = true
                fieldWasQuoted = true
            case "\"":
                throw ParseError(line: line, message: "a quote inside an unquoted field")
            case ",":
                fields.append(field)
                field = ""
                fieldWasQuoted = false
            case "\n", "\r\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.append(character)
            }
        }
        if inQuotes { throw ParseError(line: recordLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }

    /// The first characters that make a spreadsheet read a cell as a formula (OWASP's CSV
    /// injection list: tab and carriage return too, which some spreadsheets skip before an `=`).
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// One CSV line (CRLF-terminated), quoting fields that need it. Fields starting with a
    /// formula character are prefixed with ' so that spreadsheets do not run them.
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            var value = field
            if let first = value.unicodeScalars.first.map(Character.init), formulaStarts.contains(first) { value = "'" + value }
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return value }
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\r\n"
    }
}
