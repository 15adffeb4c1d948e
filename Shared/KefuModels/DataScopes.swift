/// Which customer records a functional permission reaches (数据权限, customer data).
public enum CustomerDataScope: String, Sendable, Codable, CaseIterable, Hashable {
    case all
    case mine
    case myGroups = "my_groups"
    case myGroupsMembers = "my_groups_members"
    case companyPool = "company_pool"
}

/// Which organisation records a functional permission reaches (数据权限, organisation data).
public enum OrganisationDataScope: String, Sendable, Codable, CaseIterable, Hashable {
    case company
    case myDepartment = "my_department"

    /// The wider of two scopes; an employee holding several roles gets the union of their reach.
    public func union(_ other: OrganisationDataScope) -> OrganisationDataScope {
        self == .company || other == .company ? .company : .myDepartment
    }
}

/// The data scopes a principal holds, the union over its roles.
public struct DataScopes: Sendable, Codable, Hashable {
    public var customers: Set<CustomerDataScope>
    public var organisation: OrganisationDataScope

    public init(customers: Set<CustomerDataScope>, organisation: OrganisationDataScope) {
        self.customers = customers
        self.organisation = organisation
    }

    /// Reaches everything: the super admin's scopes.
    public static let unrestricted = DataScopes(customers: [.all], organisation: .company)

    public func union(_ other: DataScopes) -> DataScopes {
        DataScopes(customers: customers.union(other.customers), organisation: organisation.union(other.organisation))
    }
}
