import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KefuModels
import Logging
import NIOCore

extension HTTPField.Name {
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// Set on a response replayed for a retried key.
    public static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    /// Set by a handler whose answer holds a secret shown once (an API key, a signing secret):
    /// the answer is not kept for replays, so the secret is never at rest in plain text. Removed
    /// before the response leaves.
    public static let kefuSecretOnce = HTTPField.Name("Kefu-Secret-Once")!
}

/// `Idempotency-Key` on any authenticated POST: a client that retries a request with the same key
/// (after a timeout, a dropped connection, a crash) gets the first response again instead of a
/// second write. Keys belong to their caller (employee or API key) and last 24 hours.
///
/// The key is claimed by the request's first write, in that write's transaction
/// (`IdempotencyClaim`), so "written" and "key taken" commit together; the response is stored
/// just after. A request that wrote nothing (refused before writing) stores nothing: retrying it
/// is harmless. The same key with another method, path or body is a 422; a key whose first
/// request is still running is a 409 `idempotency_key_in_use`; one whose first request wrote but
/// could not produce or store its response is a 409 `idempotency_response_lost`. Platform-token
/// requests are not covered (no caller to own the key).
public struct IdempotencyMiddleware: RouterMiddleware {
    public typealias Context = KefuRequestContext

    let database: Database
    let service: String
    /// How long a retry waits for a first request that has written but not yet stored its response
    /// (a key visible without a response is always that: the claim commits with the write).
    let patience: Duration
    /// How long a request that has written keeps trying to store its response.
    let storeDeadline: Duration = .seconds(30)
    /// A key taken this long without a response lost it (its process died between the commit and
    /// storing it): retries are told so rather than to wait.
    static let abandonedAfter = 60

    public init(database: Database, service: ServiceName, patience: Duration = .seconds(5)) {
        self.database = database
        self.service = service.rawValue
        self.patience = patience
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey], let principal = context.principal else {
            return try await next(request, context)
        }
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E }) else {
            throw Problem.invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters (a UUID is a good choice)")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        var hash = SHA256()
        hash.update(data: Array("\(request.method.rawValue) \(request.uri)\n".utf8))
        hash.update(data: Self.canonical(body))
        let claim = IdempotencyClaim(
            tenant: principal.tenantID, service: service, subject: Self.subject(principal), key: key,
            fingerprint: Array(hash.finalize())
        )
        // A retry arriving between the first request's commit and its stored response waits for
        // that response rather than hearing "in use" (it was answered 409 at once before, so
        // concurrent retries under load got different answers).
        if let earlier = try await earlierAnswer(claim) { return earlier }

        var response: Response
        // Whether this request's write committed holding the key (its response is then kept).
        var wrote = false
        do {
            response = try await IdempotencyClaim.$current.withValue(claim) { try await next(request, context) }
        } catch is IdempotencyKeyTaken {
            // A concurrent request with this key committed first; this one's write rolled back.
            guard let earlier = try await earlierAnswer(claim) else { throw inUse() }
            return earlier
        } catch {
            if claim.isCommitted {
                response = try ProblemMiddleware.response(for: error, request: request, context: context)
            } else if try await lookUp(claim)?.claimID == claim.id {
                // The connection died at COMMIT, which went through: the write is done, but the
                // response it would have made is not known.
                wrote = true
                response = try lost().response(from: request, context: context)
            } else {
                // A concurrent first request may have made this one fail before its claim (its
                // row taking the same unique name): then the answer is the first one's.
                if let earlier = try await earlierAnswer(claim) { return earlier }
                throw error
            }
        }
        let secret = response.headers[.kefuSecretOnce] != nil
        response.headers[.kefuSecretOnce] = nil
        if wrote || claim.isCommitted {
            if secret {
                // Retries learn that the write happened, not the secret.
                _ = try await store(try Self.secretShownOnce.response(from: request, context: context), for: claim, logger: context.logger)
            } else {
                response.body = .init(byteBuffer: try await store(response, for: claim, logger: context.logger))
            }
        }
        return response
    }

    /// Keeps `response` for the retries of `claim`; returns its body, read for storing.
    func store(_ response: Response, for claim: IdempotencyClaim, logger: Logger) async throws -> ByteBuffer {
        let body = try await Self.collect(response.body)
        let headers = String(decoding: try JSONEncoder().encode(Self.replayedHeaders(of: response)), as: UTF8.self)
        let status = Int16(response.status.code)
        // The write has committed: its response must reach the table, or every retry would only
        // hear that it was lost. A Postgres restart right now is waited out (within reason).
        var backoff = Backoff()
        let deadline = ContinuousClock.now + storeDeadline
        while true {
            do {
                try await database.withTenant(claim.tenant) { tx in
                    try await tx.query("""
                        UPDATE kefu.idempotency_keys SET status = \(status), headers = \(headers)::jsonb, body = \(body)
                        WHERE service = \(claim.service) AND subject = \(claim.subject) AND key = \(claim.key) AND claim_id = \(claim.id)
                        """)
                }
                return body
            } catch {
                guard ContinuousClock.now < deadline else { throw error }
                logger.warning("storing an idempotent response failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                try await Task.sleep(for: backoff.next())
            }
        }
    }

    struct Record {
        let claimID: UUID
        let fingerprint: [UInt8]
        let status: Int16?
        let headers: String?
        let body: ByteBuffer?
        let abandoned: Bool
    }

    /// The key's record, unless it is free (never used, or expired).
    func lookUp(_ claim: IdempotencyClaim) async throws -> Record? {
        try await database.withTenant(claim.tenant) { tx in
            let row = try await tx.query("""
                SELECT claim_id, fingerprint, status, headers::text, body, created_at < now() - make_interval(secs => \(Self.abandonedAfter))
                FROM kefu.idempotency_keys
                WHERE service = \(claim.service) AND subject = \(claim.subject) AND key = \(claim.key)
                  AND created_at >= now() - interval '24 hours'
                """).collect().first
            guard let (id, fingerprint, status, headers, body, abandoned) = try row?.decode((UUID, ByteBuffer, Int16?, String?, ByteBuffer?, Bool).self) else {
                return nil
            }
            return Record(claimID: id, fingerprint: Array(fingerprint.readableBytesView), status: status, headers: headers, body: body, abandoned: abandoned)
        }
    }

    /// The answer for a key an earlier request holds, or nil when it is free. The earlier request
    /// has written, so it gets `patience` to store its response.
    func earlierAnswer(_ claim: IdempotencyClaim) async throws -> Response? {
        let deadline = ContinuousClock.now + patience
        while true {
            guard let record = try await lookUp(claim) else { return nil }
            guard record.fingerprint == claim.fingerprint else {
                throw Problem(
                    .unprocessableContent, code: "idempotency_key_reused",
                    detail: "This Idempotency-Key was used for another request (method, path or body); use a new key for a new request.",
                    fieldErrors: [FieldError(field: "Idempotency-Key", code: "idempotency_key_reused", message: "was used for another request")]
                )
            }
            if let status = record.status {
                var fields = HTTPFields()
                let stored = try record.headers.map { try JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
                for (name, value) in stored {
                    if let name = HTTPField.Name(name) { fields[name] = value }
                }
                fields[.idempotentReplayed] = "true"
                return Response(status: .init(code: Int(status)), headers: fields, body: .init(byteBuffer: record.body ?? ByteBuffer()))
            }
            guard !record.abandoned else { throw lost() }
            guard ContinuousClock.now < deadline else { throw inUse() }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    func inUse() -> Problem {
        Problem(
            .conflict, code: "idempotency_key_in_use",
            detail: "A request with this Idempotency-Key is still being processed; retry in a moment.",
            headers: [.retryAfter: "1"]
        )
    }

    func lost() -> Problem {
        Problem(
            .conflict, code: "idempotency_response_lost",
            detail: "The first request with this Idempotency-Key made its changes, but its response was lost. Look the result up instead of retrying."
        )
    }

    /// A JSON body with its keys sorted, so that a retry serialised in another key order is the
    /// same request; any other body as sent.
    static func canonical(_ body: ByteBuffer) -> Data {
        let bytes = Data(body.readableBytesView)
        guard let parsed = try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]),
              let sorted = try? JSONSerialization.data(withJSONObject: parsed, options: [.sortedKeys, .fragmentsAllowed])
        else { return bytes }
        return sorted
    }

    static func subject(_ principal: Principal) -> String {
        switch principal.subject {
        case .employee(let id): "employee:\(id)"
        case .apiKey(let id): "api_key:\(id)"
        }
    }

    static let secretShownOnce = Problem(
        .conflict, code: "secret_shown_once",
        detail: "The first request with this Idempotency-Key succeeded, and its answer held a secret that is shown only once and not kept. List the resource to find it; if the secret was lost, revoke it and create another."
    )

    /// The headers a replay repeats: what describes the result, not this exchange.
    static func replayedHeaders(of response: Response) -> [String: String] {
        var kept: [String: String] = [:]
        for name in [HTTPField.Name.contentType, .location, .eTag] {
            if let value = response.headers[name] { kept[name.canonicalName] = value }
        }
        return kept
    }

    static func collect(_ body: ResponseBody) async throws -> ByteBuffer {
        let collector = BodyCollector()
        try await body.write(collector)
        return collector.buffer
    }
}

/// Gathers a response body written in parts.
private final class BodyCollector: ResponseBodyWriter {
    var buffer = ByteBuffer()

    func write(_ part: ByteBuffer) async throws {
        var part = part
        buffer.writeBuffer(&part)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
