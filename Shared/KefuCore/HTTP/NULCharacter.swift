import Foundation

/// JSON may carry U+0000 (`\u0000`), Postgres text and jsonb may not: a body holding one would
/// fail at the database with a 500. The decoder rejects it first, naming the field.
enum NULCharacter {
    /// The snake_case path of the first string (or key) holding U+0000, or nil when there is none.
    static func field(in body: Data) -> String? {
        guard containsEscapedNUL(body) else { return nil }
        guard let json = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else { return "body" }
        return path(of: json, at: "") ?? "body"
    }

    /// Whether the text holds `\u0000` as an escape (an odd run of backslashes before the `u`).
    static func containsEscapedNUL(_ body: Data) -> Bool {
        let pattern = Array("u0000".utf8)
        let bytes = [UInt8](body)
        var index = 1
        while index + pattern.count <= bytes.count {
            if bytes[index - 1] == UInt8(ascii: "\\"), Array(bytes[index..<index + pattern.count]) == pattern {
                var backslashes = 0
                var back = index - 1
                while back >= 0, bytes[back] == UInt8(ascii: "\\") { backslashes += 1; back -= 1 }
                if backslashes % 2 == 1 { return true }
            }
            index += 1
        }
        return false
    }

    private static func path(of value: Any, at path: String) -> String? {
        switch value {
        case let text as String:
            return text.unicodeScalars.contains("\u{0}") ? (path.isEmpty ? "body" : path) : nil
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if key.unicodeScalars.contains("\u{0}") { return path.isEmpty ? "body" : path }
                if let found = Self.path(of: object[key]!, at: child) { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = Self.path(of: element, at: "\(path)[\(index)]") { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
