import Foundation
import KefuModels

/// Quality (会话质量, docs/ANALYTICS.md). Rows keep the part that depends on their facts alone
/// (`base_quality`: unanswered, customer_no_reply, silent, normal); high-quality is reception's
/// configurable definition, applied when read, so a changed definition holds for every past
/// conversation at once without rewriting them.
enum Quality: String, CaseIterable {
    case unanswered
    case customerNoReply = "customer_no_reply"
    case silent
    case normal
    case highQuality = "high_quality"

    /// The bounds of the definition as a one-row relation `hq`, joined into report queries.
    static func bounds(_ definition: HighQualityDefinition) -> (minVisitor: Int, minAgent: Int, maxFirstMs: Int64?, minStars: Int?) {
        (definition.minVisitorMessages, definition.minAgentMessages, definition.maxFirstResponseSeconds.map { Int64($0) * 1000 },
         definition.minSatisfactionStars)
    }

    /// The quality of conversation `c` given `hq` (a relation with min_visitor, min_agent,
    /// max_first_ms, min_stars). A conversation without a first response is never high-quality
    /// when a response bound is set; an unrated one is not held to the stars bound.
    static let sql = """
        CASE WHEN c.base_quality = 'normal' AND c.visitor_messages >= hq.min_visitor AND c.agent_messages >= hq.min_agent
                  AND (hq.max_first_ms IS NULL OR c.first_response_ms <= hq.max_first_ms)
                  AND (hq.min_stars IS NULL OR c.rating_stars IS NULL OR c.rating_stars >= hq.min_stars)
             THEN 'high_quality' ELSE c.base_quality END
        """
}
