import Foundation
import Hummingbird

extension Parameters {
    /// A UUID path parameter; a malformed one is a 404 like any unknown id.
    public func uuid(_ name: String = "id", what: String = "resource") throws -> UUID {
        guard let raw = self.get(name), let id = UUID(uuidString: raw) else { throw Problem.notFound(what) }
        return id
    }
}

/// Runs a lookup of an id the request referenced in its body: "not found" there is a validation
/// error on the field that named it (without saying whether it exists in another tenant).
public func referenced<T>(_ field: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let problem as Problem where problem.status == .notFound {
        throw Problem.invalid(field, "does not exist", code: "not_found")
    }
}
