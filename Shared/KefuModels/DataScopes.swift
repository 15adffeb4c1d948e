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

    /// The narrower of two scopes: what two grants both reach.
    public func intersection(_ other: OrganisationDataScope) -> OrganisationDataScope {
        self == .company && other == .company ? .company : .myDepartment
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

    /// What both reach: an API key's token reaches no further than its creator does now.
    public func intersection(_ other: DataScopes) -> DataScopes {
        let customers: Set<CustomerDataScope> =
            if self.customers.contains(.all) { other.customers }
            else if other.customers.contains(.all) { self.customers }
            else { self.customers.intersection(other.customers) }
        return DataScopes(customers: customers, organisation: organisation.intersection(other.organisation))
    }

    /// True when everything these scopes reach, `other` reaches too ("all customers" reaches
    /// every customer scope; the whole company reaches my department).
    public func isWithin(_ other: DataScopes) -> Bool {
        (other.customers.contains(.all) || customers.isSubset(of: other.customers))
            && (organisation == .myDepartment || other.organisation == .company)
    }
}
