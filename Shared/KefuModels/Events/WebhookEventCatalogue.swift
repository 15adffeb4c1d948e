/// The event types partners may subscribe webhooks to. Delivery (signed, durable, retried) is
/// the webhook issue's work; subscriptions are validated against this list now.
public enum WebhookEventCatalogue {
    public static let all: [String] = [
        TenantUpdated.eventType,
        EmployeeCreated.eventType, EmployeeUpdated.eventType, EmployeeStatusChanged.eventType,
        EmployeeRolesChanged.eventType, EmployeeBusinessTransferred.eventType,
        DepartmentChanged.eventType, RoleChanged.eventType, ReceptionConfigChanged.eventType,
        ConversationCreated.eventType, ConversationAssigned.eventType, ConversationTransferred.eventType, ConversationEnded.eventType,
        ConversationQueued.eventType, ConversationUpdated.eventType, AgentStateChanged.eventType,
        MessageCreated.eventType, SatisfactionRated.eventType, VisitorSeen.eventType, VisitorPageViewed.eventType,
        VisitorMenuClicked.eventType,
        // The customer library's, when it publishes them.
        "customer.created", "customer.updated", "customer.merged", CustomerStageChanged.eventType,
    ]
}
