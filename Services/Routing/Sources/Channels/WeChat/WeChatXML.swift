import Foundation

/// WeChat's message XML: one flat `<xml>` element of named fields (text, or CDATA). Read by a
/// small scanner rather than an XML parser: no DTDs or entities beyond the five predefined are
/// ever expanded (WeChat sends none, and a document carrying a DOCTYPE is refused outright).
enum WeChatXML {
    struct Malformed: Error {}

    /// The top-level fields of `<xml>…</xml>`; nested elements come as their raw inner text.
    static func parse(_ text: String) throws -> [String: String] {
        guard !text.contains("<!DOCTYPE"), !text.contains("<!ENTITY"),
              let open = text.range(of: "<xml>"), let close = text.range(of: "</xml>", options: .backwards), open.upperBound <= close.lowerBound
        else { throw Malformed() }
        var fields: [String: String] = [:]
        var rest = text[open.upperBound..<close.lowerBound]
        while true {
            rest = rest.drop(while: \.isWhitespace)
            guard !rest.isEmpty else { break }
            guard rest.first == "<", let end = rest.firstIndex(of: ">") else { throw Malformed() }
            let name = String(rest[rest.index(after: rest.startIndex)..<end])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { throw Malformed() }
            let body = rest[rest.index(after: end)...]
            guard let closing = body.range(of: "</\(name)>") else { throw Malformed() }
            fields[name] = value(body[..<closing.lowerBound])
            rest = body[closing.upperBound...]
        }
        return fields
    }

    static func value(_ raw: Substring) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("<![CDATA["), trimmed.hasSuffix("]]>") {
            return trimmed.dropFirst(9).dropLast(3).replacingOccurrences(of: "]]]]><![CDATA[>", with: "]]>")
        }
        return trimmed.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func cdata(_ text: String) -> String {
        "<![CDATA[" + text.replacingOccurrences(of: "]]>", with: "]]]]><![CDATA[>") + "]]>"
    }

    /// `<xml>` of the fields in order; numbers bare, text as CDATA, `raw` elements verbatim.
    enum Field { case text(String, String), number(String, Int), raw(String, String) }

    static func build(_ fields: [Field]) -> String {
        var xml = "<xml>"
        for field in fields {
            switch field {
            case .text(let name, let value): xml += "<\(name)>\(cdata(value))</\(name)>"
            case .number(let name, let value): xml += "<\(name)>\(value)</\(name)>"
            case .raw(let name, let value): xml += "<\(name)>\(value)</\(name)>"
            }
        }
        return xml + "</xml>"
    }
}
