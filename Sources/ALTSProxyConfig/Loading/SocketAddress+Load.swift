#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What an address may be where it appears.
enum AddressRule {
    /// Listeners and admin: an IP literal (Envoy binds, it does not resolve); port 0 picks a
    /// free port, which tests use.
    case bind
    /// STATIC cluster endpoints: an IP literal and a port 1-65535.
    case staticEndpoint
    /// STRICT_DNS and LOGICAL_DNS endpoints: a host name or an IP literal, port 1-65535.
    case dnsEndpoint
}

extension ConfigNode {
    /// `address: { socket_address: {...} }` (envoy.config.core.v3.Address).
    func address(_ rule: AddressRule) throws(ProxyConfigError) -> SocketAddressSpec {
        let mapping = try self.mapping(supported: ["socket_address"])
        return try mapping.required("socket_address").socketAddress(rule)
    }

    /// `socket_address: { address, port_value }` (envoy.config.core.v3.SocketAddress).
    func socketAddress(_ rule: AddressRule) throws(ProxyConfigError) -> SocketAddressSpec {
        let mapping = try self.mapping(supported: ["address", "port_value", "protocol"])
        if let proto = mapping["protocol"] {
            let value = try proto.string()
            guard value == "TCP" else { throw proto.error("unsupported protocol '\(value)' (alts-proxy supports: TCP)") }
        }
        let addressNode = try mapping.required("address")
        var address = try addressNode.nonEmptyString()
        let portNode = try mapping.required("port_value")
        let port = try portNode.integer()

        switch rule {
        case .bind, .staticEndpoint:
            guard let canonical = IPAddress.canonical(address) else {
                let hint = rule == .bind
                    ? "listeners and admin bind to an IP address"
                    : "STATIC clusters need IP literals; use type STRICT_DNS or LOGICAL_DNS for host names"
                throw addressNode.error("'\(address)' is not an IP address (\(hint))")
            }
            address = canonical
        case .dnsEndpoint:
            if let canonical = IPAddress.canonical(address) {
                address = canonical
            } else if !IPAddress.isHostName(address) {
                throw addressNode.error("'\(address)' is neither an IP address nor a host name")
            }
        }
        let lowest = rule == .bind ? 0 : 1
        guard (lowest...65_535).contains(port) else {
            throw portNode.error("port_value \(port) is out of range (\(lowest)-65535)")
        }
        return SocketAddressSpec(address: address, port: port)
    }
}

enum IPAddress {
    /// The address in its canonical text form (`::0` becomes `::`), or nil when `text` is not
    /// an IPv4 or IPv6 literal. Zone indices (`fe80::1%eth0`) are not accepted.
    static func canonical(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { format(family: AF_INET, $0.baseAddress!, length: Int(INET_ADDRSTRLEN)) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { format(family: AF_INET6, $0.baseAddress!, length: Int(INET6_ADDRSTRLEN)) }
        }
        return nil
    }

    private static func format(family: Int32, _ address: UnsafeRawPointer, length: Int) -> String? {
        var buffer = [CChar](repeating: 0, count: length)
        guard inet_ntop(family, address, &buffer, socklen_t(length)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// RFC 1123 host names (letters, digits, `-`, `_`, dot-separated labels of 1-63
    /// characters), as a resolver takes them.
    static func isHostName(_ text: String) -> Bool {
        guard text.utf8.count <= 253 else { return false }
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy { label in
            (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }
}
