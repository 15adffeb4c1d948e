/// The event types partners may subscribe webhooks to. Delivery (signed, durable, retried) is
/// the webhook issue's work; subscriptions are validated against this list now.
public enum WebhookEventCatalogue {
    public static let all: [String] = [
        TenantUpdated.eventType,
        EmployeeCreated.eventType, EmployeeUpdated.eventType, EmployeeStatusChanged.eventType,
        EmployeeRolesChanged.eventType, EmployeeBusinessTransferred.eventType,
        DepartmentChanged.eventType, RoleChanged.eventType, ReceptionConfigChanged.eventType,
        "conversation.created", "conversation.assigned", "conversation.transferred", "conversation.ended",
        "message.created", "customer.created", "customer.updated", "customer.merged", "satisfaction.rated",
    ]
}
