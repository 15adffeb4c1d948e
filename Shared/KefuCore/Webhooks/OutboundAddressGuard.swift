import Foundation
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Keeps tenant-supplied URLs (webhook endpoints) from reaching the platform's own network: a
/// URL whose host is, or resolves to, a loopback, private, link-local, shared, multicast or
/// reserved address is refused — unless the deployment allows it (`KEFU_WEBHOOK_ALLOW_PRIVATE=1`,
/// a developer's machine and the tests).
///
/// Checked when the URL is written and again before every delivery (a name may change its
/// answer). A name re-resolved by the HTTP client between the check and the connect could still
/// differ (DNS rebinding); pinning the connection to the checked address is the next step.
public struct OutboundAddressGuard: Sendable {
    public let allowPrivate: Bool

    public init(allowPrivate: Bool) {
        self.allowPrivate = allowPrivate
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notHTTP
        case noHost
        case unresolvable(String)
        case privateAddress(host: String, address: String)

        public var description: String {
            switch self {
            case .notHTTP: "must be an http or https URL"
            case .noHost: "must name a host"
            case .unresolvable(let host): "names a host that does not resolve (\(host))"
            case .privateAddress(let host, let address):
                host == address ? "points to a private, loopback or link-local address (\(address))"
                    : "names a host that resolves to a private, loopback or link-local address (\(host) → \(address))"
            }
        }
    }

    /// Throws a `Refusal` unless every address `url`'s host resolves to is public (or private
    /// addresses are allowed).
    public func check(_ url: String) async throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else { throw Refusal.notHTTP }
        guard var host = components.host, !host.isEmpty else { throw Refusal.noHost }
        if allowPrivate { return }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let addresses = try await Self.resolve(host)
        guard !addresses.isEmpty else { throw Refusal.unresolvable(host) }
        for address in addresses where !Self.isPublic(address) {
            throw Refusal.privateAddress(host: host, address: Self.text(address))
        }
    }

    // MARK: Addresses

    /// Every address `host` resolves to (an address literal resolves to itself). getaddrinfo
    /// blocks, so it runs on NIO's thread pool.
    static func resolve(_ host: String) async throws -> [SocketAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
            defer { freeaddrinfo(first) }
            var addresses: [SocketAddress] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let info = cursor {
                if let raw = info.pointee.ai_addr {
                    switch Int32(raw.pointee.sa_family) {
                    case AF_INET:
                        raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { addresses.append(SocketAddress($0.pointee, host: host)) }
                    case AF_INET6:
                        raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { addresses.append(SocketAddress($0.pointee, host: host)) }
                    default: break
                    }
                }
                cursor = info.pointee.ai_next
            }
            return addresses
        }
    }

    static func text(_ address: SocketAddress) -> String { address.ipAddress ?? "\(address)" }

    /// Whether `address` is globally routable: none of the special-purpose ranges of RFC 6890.
    static func isPublic(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let v4): return isPublicV4(bytes(of: v4.address.sin_addr))
        case .v6(let v6):
            let b = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            return isPublicV6(b)
        default: return false
        }
    }

    private static func bytes(of address: in_addr) -> [UInt8] { withUnsafeBytes(of: address) { Array($0) } }

    static func isPublicV4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return false            // "this network", private, loopback
        case (100, 64...127): return false                       // shared (carrier-grade NAT)
        case (169, 254): return false                            // link-local (cloud metadata)
        case (172, 16...31), (192, 168): return false            // private
        case (192, 0) where b[2] == 0 || b[2] == 2: return false // IETF protocol assignments, documentation
        case (198, 18...19): return false                        // benchmarking
        case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return false // documentation
        case (224...255, _): return false                        // multicast, reserved, broadcast
        default: return true
        }
    }

    static func isPublicV6(_ b: [UInt8]) -> Bool {
        let zeroPrefix = b[0..<10].allSatisfy { $0 == 0 }
        if zeroPrefix && b[10] == 0xff && b[11] == 0xff { return isPublicV4(Array(b[12..<16])) } // IPv4-mapped
        if b[0..<15].allSatisfy({ $0 == 0 }) { return false }                                    // :: and ::1
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b { return isPublicV4(Array(b[12..<16])) } // NAT64
        if b[0] == 0x20 && b[1] == 0x02 { return isPublicV4(Array(b[2..<6])) }                   // 6to4
        if b[0] & 0xfe == 0xfc { return false }                                                  // unique local
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return false }                                  // link-local
        if b[0] == 0xff { return false }                                                         // multicast
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return false }         // documentation
        return true
    }
}
