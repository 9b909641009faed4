extension ConfigNode {
    /// `transport_socket` on a filter chain or a cluster: `envoy.transport_sockets.alts`, or
    /// `envoy.transport_sockets.raw_buffer` (plaintext, the same as leaving it out, so nil).
    func transportSocket() throws(ProxyConfigError) -> ALTSTransportSocketConfig? {
        let (socket, _) = try typedExtension()
        switch socket.resolve(among: [Extension.alts, Extension.rawBuffer]) {
        case Extension.alts?:
            let config = try socket.config(of: Extension.alts, supported: ["handshaker_service", "peer_service_accounts"])!
            let serviceNode = try config.required("handshaker_service")
            let service = try serviceNode.nonEmptyString()
            if let problem = HandshakerServiceAddress.problem(service) {
                throw serviceNode.error("invalid handshaker_service '\(service)': \(problem)")
            }
            var accounts: [String] = []
            if let list = config["peer_service_accounts"] {
                for element in try list.sequence() {
                    accounts.append(try element.nonEmptyString())
                }
            }
            return ALTSTransportSocketConfig(handshakerService: service, peerServiceAccounts: accounts)
        case Extension.rawBuffer?:
            _ = try socket.config(of: Extension.rawBuffer, supported: [], required: false)
            return nil
        default:
            throw ProxyConfigError(
                path: path(ofKey: "name"),
                message: "unsupported transport socket '\(socket.name)' (alts-proxy supports: \(Extension.alts.name), \(Extension.rawBuffer.name))"
            )
        }
    }
}

/// The address forms alts-proxy's handshaker-service client dials: `HOST:PORT`,
/// `[IPV6]:PORT` or `unix:PATH`.
enum HandshakerServiceAddress {
    static func problem(_ text: String) -> String? {
        if text.hasPrefix("unix:") {
            return text.count > "unix:".count ? nil : "the socket path is empty"
        }
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return "expected [IPV6]:PORT"
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return "expected HOST:PORT, [IPV6]:PORT or unix:PATH" }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return "put an IPv6 address in brackets: [IPV6]:PORT" }
        }
        guard !host.isEmpty else { return "the host is empty" }
        guard IPAddress.canonical(String(host)) != nil || IPAddress.isHostName(String(host)) else {
            return "'\(host)' is neither an IP address nor a host name"
        }
        guard let number = Int(port), (1...65_535).contains(number) else {
            return "'\(port)' is not a port number (1-65535)"
        }
        return nil
    }
}
