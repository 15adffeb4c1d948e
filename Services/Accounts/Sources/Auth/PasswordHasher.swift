import Foundation
import HummingbirdBcrypt
import KefuCore
import NIOPosix
import Prometheus

/// bcrypt, run on NIO's blocking thread pool: a cost-12 hash takes a quarter of a second and
/// must not stall the event loops or Swift's cooperative threads.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    /// Verified against when the account does not exist, so that both cases take the same time.
    private let decoyHash: String
    /// `kefu_password_hashes_total{operation}`: the CPU anonymous requests can make accounts spend
    /// (and a test's proof that a refused request hashed nothing).
    private let hashes: Counter
    private let verifies: Counter

    public init(cost: UInt8, metrics: PrometheusCollectorRegistry) {
        self.cost = cost
        self.decoyHash = Bcrypt.hash(UUID().uuidString, cost: cost)
        let descriptor = MetricNameDescriptor(
            namespace: "kefu", subsystem: "password", metricName: "hashes", unitName: "total", helpText: "bcrypt hashes and verifies run"
        )
        self.hashes = metrics.makeCounter(descriptor: descriptor, labels: [("operation", "hash")])
        self.verifies = metrics.makeCounter(descriptor: descriptor, labels: [("operation", "verify")])
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        hashes.increment()
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Verifies against `hash`, or against the decoy when there is no account: same work either way.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        verifies.increment()
        let (target, real) = (hash ?? decoyHash, hash != nil)
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }
        return matches && real
    }

    /// The minimum policy: 8 to 72 bytes (bcrypt ignores the rest), letters and digits.
    public static func policyViolation(_ password: String) -> String? {
        if password.utf8.count < 8 { return "must be at least 8 characters" }
        if password.utf8.count > 72 { return "must be at most 72 bytes" }
        if !password.contains(where: \.isLetter) || !password.contains(where: \.isNumber) {
            return "must contain letters and digits"
        }
        return nil
    }

    public static func validate(_ password: String?, field: String, into validation: inout Validation) {
        guard let password else { return validation.add(field, "is required", code: "required") }
        if let violation = policyViolation(password) { validation.add(field, violation, code: "weak_password") }
    }
}
