import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// The satisfaction survey (满意度调查, reception's `SatisfactionSurvey`): the holding agent asks
/// for it (`POST /v1/conversations/{id}/satisfaction-request`), ending it sends it when the survey
/// says so, and the visitor rates once (`POST /v1/visitor/conversations/{id}/rating`) — after the
/// end or after being asked.
///
/// Stored in the conversation's `rating` column: `{requested_at}` once asked, then the answer
/// merged in (`stars`, `labels`, `solved`, `comment`, `rated_at`); "rated" is "has stars".
struct RatingController {
    let routing: Routing

    static let paths = ["/v1/visitor/conversations/{id}/rating"]

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/conversations/{id}/satisfaction-request", use: ask)
        router.post("/v1/visitor/conversations/{id}/rating", use: rate)
        PublicCORS.allowPreflight(router, paths: Self.paths)
    }

    static let invitation = "How did we do? Please rate this conversation."

    /// Adds the survey invitation to the conversation (an automatic system message). Call while
    /// it is still live.
    static func invite(_ conversation: UUID, in tx: TenantTransaction) async throws {
        try await tx.query("""
            UPDATE routing.conversations SET rating = coalesce(rating, '{}'::jsonb) || jsonb_build_object('requested_at', now())
            WHERE id = \(conversation)
            """)
        _ = try await tx.append(NewMessage(sender: .system, senderID: nil, clientMessageID: nil, body: .text(invitation), automatic: true), to: conversation)
    }

    static let disabled = Problem.conflict(code: "survey_disabled", detail: "The satisfaction survey is switched off, or not sent this way.")
    static let alreadyRated = Problem.conflict(code: "already_rated", detail: "This conversation has been rated.")

    /// The holder invites the visitor to rate now (the survey must allow `agent_invites`).
    @Sendable func ask(request: Request, context: KefuRequestContext) async throws -> ConversationView {
        let (principal, agent) = try AgentsController.employee(context)
        try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        let survey = try await routing.reception.snapshot(for: principal.tenantID).satisfaction
        let conversations = ConversationsController(routing: routing)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            try await conversations.held(id, by: agent, principal: principal, tx: tx)
            guard survey.enabled, survey.sendWhen.contains(.agentInvites) else { throw Self.disabled }
            let rated = try await tx.query("SELECT coalesce(rating ? 'stars', false) FROM routing.conversations WHERE id = \(id) FOR UPDATE")
                .collect().first.map { try $0.decode(Bool.self) } ?? false
            guard !rated else { throw Self.alreadyRated }
            try await Self.invite(id, in: tx)
            return try await conversations.visible(id, principal: principal, tx: tx)
        }
    }

    struct RatingRequest: Decodable {
        let stars: Int?
        let labels: [String]?
        let solved: Bool?
        let comment: String?
    }

    /// Stars 1–5, labels of that star level only, `solved` exactly when the survey asks it, a
    /// comment of at most 500 characters (422 naming the field).
    func checked(_ input: RatingRequest, survey: SatisfactionSurvey) throws -> ConversationRating {
        var v = Validation()
        let level = survey.levels.first { $0.stars == input.stars }
        if let stars = input.stars { v.check((1...5).contains(stars) && level != nil, "stars", "must be 1 to 5") } else { v.add("stars", "is required", code: "required") }
        for (index, label) in (input.labels ?? []).enumerated() where level != nil && !level!.labels.contains(label) {
            v.add("labels[\(index)]", "is not a label of \(input.stars ?? 0) stars in the survey", code: "not_found")
        }
        if survey.askSolved {
            v.check(input.solved != nil, "solved", "is required: the survey asks whether the problem was solved", code: "required")
        } else {
            v.check(input.solved == nil, "solved", "is not asked by this survey")
        }
        let comment = v.text(input.comment, "comment", length: 1...500, optional: true)
        try v.throwIfInvalid()
        return ConversationRating(
            requestedAt: nil, stars: input.stars, labels: Array(Set(input.labels ?? [])).sorted(), solved: input.solved, comment: comment, ratedAt: Date()
        )
    }

    /// The visitor rates their conversation once (second: 409 `already_rated`), with the survey
    /// on, after it ended or once the agent asked (else 409 `rating_not_open`).
    @Sendable func rate(request: Request, context: KefuRequestContext) async throws -> Response {
        let visitor = try routing.visitorTokens.require(context)
        let id = try context.parameters.uuid(what: "conversation")
        let input = try await request.decode(as: RatingRequest.self, context: context)
        let survey = try await routing.reception.snapshot(for: visitor.tid).satisfaction
        let visitorConversations = VisitorConversationsController(routing: routing)
        let view = try await routing.database.withTenant(visitor.tid) { tx in
            _ = try await visitorConversations.own(id, visitor, tx)
            guard survey.enabled else { throw Self.disabled }
            let rating = try checked(input, survey: survey)
            // Locked: two submissions at once are one rating.
            let (status, agent, rated, requested) = try await tx.query("""
                SELECT status, agent_id, coalesce(rating ? 'stars', false), coalesce(rating ? 'requested_at', false)
                FROM routing.conversations WHERE id = \(id) FOR UPDATE
                """).collect()[0].decode((String, UUID?, Bool, Bool).self)
            guard !rated else { throw Self.alreadyRated }
            guard agent != nil, status == ConversationStatus.ended.rawValue || requested else {
                throw Problem.conflict(code: "rating_not_open", detail: "Rate the conversation once it has ended, or when the agent asks.")
            }
            let json = String(decoding: try KefuJSON.encoder().encode(rating), as: UTF8.self)
            try await tx.query("UPDATE routing.conversations SET rating = coalesce(rating, '{}'::jsonb) || \(json)::jsonb WHERE id = \(id)")
            try await tx.publish(SatisfactionRated(
                conversationId: ConversationID(id), agentId: agent.map(EmployeeID.init), stars: rating.stars!, labels: rating.labels ?? [],
                solved: rating.solved, comment: rating.comment, ratedAt: rating.ratedAt!
            ))
            tx.notifyRealtime(.conversation(id, .updated))
            return try await visitorConversations.own(id, visitor, tx)
        }
        var response = try EditedResponse(status: .created, response: view).response(from: request, context: context)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }
}

/// A conversation's survey: when it was asked for, and the visitor's answer.
struct ConversationRating: Codable, Sendable {
    let requestedAt: Date?
    let stars: Int?
    let labels: [String]?
    let solved: Bool?
    let comment: String?
    let ratedAt: Date?
}
