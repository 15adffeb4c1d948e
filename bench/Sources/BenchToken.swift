// kefu-bench token: an access token for a bench driver written in Python (bench/customers.py),
// signed with accounts' key as accounts signs them, so the services verify it as any other.
import Foundation
import KefuCore
import KefuModels

/// Prints an access token of `employee` in `tenant` holding every permission of the catalogue
/// and every data scope, valid for four hours.
func printBenchToken(privateKeyFile: String, tenant: String, employee: String) async throws {
    guard let tenant = TenantID(tenant), let employee = EmployeeID(employee) else {
        throw BenchTokenError.badIdentifier
    }
    let signer = try await TokenSigner(privateKeyPEM: try String(contentsOfFile: privateKeyFile, encoding: .utf8))
    print(try await signer.sign(AccessTokenClaims(
        subject: .employee(employee), tenant: tenant, permissions: Set(PermissionCatalogue.all.map(\.key)),
        scopes: .unrestricted, lifetime: 4 * 3600
    )))
}

enum BenchTokenError: Error { case badIdentifier }
