import Foundation
import Hummingbird
import KefuCore

/// The time range a report covers, `[from, to)`, and the tenant's zone its days and hours are cut
/// in. `from` and `to` are RFC 3339 instants or calendar dates (`2026-03-29`) read in the tenant's
/// zone, `to` inclusive: `from=2026-03-01&to=2026-03-31` is March there, whatever daylight saving
/// does in it. Default: the 30 days up to now.
struct Period: Sendable {
    let from: Date
    let to: Date
    /// The tenant's IANA zone (reception's conversation settings).
    let timeZone: String

    static let defaultDays = 30

    init(from: Date, to: Date, timeZone: String) {
        self.from = from
        self.to = to
        self.timeZone = timeZone
    }

    init(request: Request, timeZone: String, now: Date = Date()) throws {
        let query = request.uri.queryParameters
        let zone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        var errors: [FieldError] = []
        func read(_ name: String, endOfDay: Bool) -> Date? {
            guard let raw = query[Substring(name)].map(String.init), !raw.isEmpty else { return nil }
            if let instant = RFC3339.date(from: raw) { return instant }
            if let day = Self.startOfDay(raw, in: zone) {
                return endOfDay ? Self.calendar(zone).date(byAdding: .day, value: 1, to: day) : day
            }
            errors.append(FieldError(field: name, code: "invalid", message: "must be an RFC 3339 time or a date (YYYY-MM-DD)"))
            return nil
        }
        let to = read("to", endOfDay: true) ?? now
        let from = read("from", endOfDay: false) ?? to.addingTimeInterval(-Double(Self.defaultDays) * 86_400)
        if errors.isEmpty, from >= to {
            errors.append(FieldError(field: "from", code: "invalid", message: "must be before to"))
        }
        if errors.isEmpty, to.timeIntervalSince(from) > 400 * 86_400 {
            errors.append(FieldError(field: "to", code: "invalid", message: "a report covers at most 400 days"))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        self.init(from: from, to: to, timeZone: timeZone)
    }

    static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    /// Midnight of `YYYY-MM-DD` in `zone`.
    static func startOfDay(_ text: String, in zone: TimeZone) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        let components = DateComponents(year: y, month: m, day: d)
        guard let date = calendar(zone).date(from: components),
              calendar(zone).dateComponents([.year, .month, .day], from: date) == components else { return nil }
        return date
    }
}

/// `?format=csv` or `Accept: text/csv`: the same table as CSV.
enum ReportFormat {
    case json, csv

    init(request: Request) throws {
        let asked = request.uri.queryParameters["format"].map(String.init)
        switch asked {
        case nil, "": self = (request.headers[.accept] ?? "").contains("text/csv") ? .csv : .json
        case "json": self = .json
        case "csv": self = .csv
        default: throw Problem.invalid("format", "must be json or csv")
        }
    }
}

extension Request {
    /// A query parameter that must be a UUID when present (a malformed one is a 422 naming it).
    func uuidParameter(_ name: String) throws -> UUID? {
        guard let raw = uri.queryParameters[Substring(name)].map(String.init), !raw.isEmpty else { return nil }
        guard let id = UUID(uuidString: raw) else { throw Problem.invalid(name, "must be a UUID") }
        return id
    }

    func stringParameter(_ name: String) -> String? {
        uri.queryParameters[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }
}
