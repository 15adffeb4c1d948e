import KefuModels

/// The roles every tenant starts with (DOMAIN.md §1): the immutable super admin and three
/// editable templates.
enum BuiltInRoles {
    struct Definition {
        let name: String
        let kind: String
        let permissions: Set<Permission>
        let scopes: DataScopes
    }

    static let superAdmin = Definition(
        name: "超级管理员", kind: "super_admin", permissions: Set(PermissionCatalogue.all.map(\.key)), scopes: .unrestricted
    )

    static let templates: [Definition] = [
        // Supervisor: every management permission.
        Definition(
            name: "客服主管", kind: "template",
            permissions: Set(PermissionCatalogue.all.map(\.key)).subtracting([.enterpriseRoles, .enterpriseApiKeys]),
            scopes: DataScopes(customers: [.all], organisation: .company)
        ),
        // Agent: reception only.
        Definition(
            name: "在线客服", kind: "template",
            permissions: [.clientLogin, .clientMobileLogin, .clientFileTransfer, .clientTickets, .customersView,
                          .customersEdit, .customersPrivateRemarks, .receptionQuickReplies],
            scopes: DataScopes(customers: [.mine, .companyPool], organisation: .myDepartment)
        ),
        // QA inspector: view messages and data.
        Definition(
            name: "质检员", kind: "template",
            permissions: [.clientLogin, .analyticsSessions, .analyticsRecords, .analyticsAgents, .analyticsMonitoring,
                          .analyticsQA, .customersView],
            scopes: DataScopes(customers: [.all], organisation: .company)
        ),
    ]
}
