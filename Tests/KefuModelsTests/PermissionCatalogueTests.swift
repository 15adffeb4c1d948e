import KefuModels
import Testing

@Suite struct PermissionCatalogueTests {
    @Test func keysAreUniqueAndGroupedByTheirPrefix() {
        #expect(PermissionCatalogue.byKey.count == PermissionCatalogue.all.count)
        for info in PermissionCatalogue.all {
            #expect(info.key.rawValue.hasPrefix(info.group.rawValue + "."), "\(info.key) is filed under \(info.group)")
        }
        #expect(Set(PermissionCatalogue.all.map(\.group)) == Set(PermissionGroup.allCases))
    }

    @Test func sensitivePermissionsAreTheOnesTheDomainNames() {
        let sensitive = Set(PermissionCatalogue.all.filter(\.sensitive).map(\.key))
        #expect(sensitive == [
            .customersDelete, .customersExport, .analyticsExport, .analyticsForcedTransfer,
            .enterpriseOrganisation, .enterpriseRoles,
        ])
        #expect(Permission.enterpriseRoles.isSensitive)
        #expect(!Permission.clientLogin.isSensitive)
        #expect(!Permission(rawValue: "no.such").isSensitive)
    }

    @Test func dataScopesUnionWidens() {
        let agent = DataScopes(customers: [.mine], organisation: .myDepartment)
        let supervisor = DataScopes(customers: [.myGroups], organisation: .company)
        #expect(agent.union(supervisor) == DataScopes(customers: [.mine, .myGroups], organisation: .company))
    }
}
