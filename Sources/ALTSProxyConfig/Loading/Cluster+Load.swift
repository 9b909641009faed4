extension ConfigNode {
    /// `static_resources.clusters[i]` (envoy.config.cluster.v3.Cluster).
    func cluster() throws(ProxyConfigError) -> Cluster {
        let mapping = try self.mapping(supported: [
            "name", "connect_timeout", "type", "lb_policy", "load_assignment", "transport_socket",
            "http2_protocol_options", "typed_extension_protocol_options",
        ])
        let name = try mapping.required("name").nonEmptyString()
        var cluster = Cluster(name: name, endpoints: [])
        if let timeoutNode = mapping["connect_timeout"] {
            let timeout = try timeoutNode.duration()
            guard timeout > .zero else { throw timeoutNode.error("connect_timeout must be greater than 0s") }
            cluster.connectTimeout = timeout
        }
        if let type = mapping["type"] {
            cluster.type = try type.enumeration(Cluster.DiscoveryType.self, field: "cluster type", supported: [.static, .strictDNS, .logicalDNS])
        }
        if let policy = mapping["lb_policy"] {
            let value = try policy.string()
            guard value == "ROUND_ROBIN" else {
                throw policy.error("unsupported lb_policy '\(value)' (alts-proxy supports: ROUND_ROBIN)")
            }
        }
        let assignmentNode = try mapping.required("load_assignment")
        cluster.endpoints = try assignmentNode.loadAssignment(type: cluster.type)
        cluster.transportSocket = try mapping["transport_socket"]?.transportSocket()

        var legacyHTTP2: Cluster.UpstreamProtocol?
        if let node = mapping["http2_protocol_options"] { legacyHTTP2 = try node.http2ProtocolOptions() }
        var typedProtocol: Cluster.UpstreamProtocol?
        if let node = mapping["typed_extension_protocol_options"] { typedProtocol = try node.typedExtensionProtocolOptions() }
        if legacyHTTP2 != nil, typedProtocol != nil {
            throw self.error("set the upstream protocol in typed_extension_protocol_options or in http2_protocol_options, not both")
        }
        cluster.upstreamProtocol = typedProtocol ?? legacyHTTP2 ?? .http1
        return cluster
    }

    /// `load_assignment` (envoy.config.endpoint.v3.ClusterLoadAssignment), flattened: every
    /// lb_endpoint of every locality, in order, each weighted equally.
    func loadAssignment(type: Cluster.DiscoveryType) throws(ProxyConfigError) -> [SocketAddressSpec] {
        let mapping = try self.mapping(supported: ["cluster_name", "endpoints"])
        _ = try mapping["cluster_name"]?.string()
        let rule: AddressRule = type == .static ? .staticEndpoint : .dnsEndpoint
        var addresses: [SocketAddressSpec] = []
        let localities = try mapping.required("endpoints")
        for locality in try localities.sequence() {
            let localityMapping = try locality.mapping(supported: ["lb_endpoints"])
            for lbEndpoint in try localityMapping.required("lb_endpoints").sequence() {
                let endpointMapping = try lbEndpoint.mapping(supported: ["endpoint"])
                let endpoint = try endpointMapping.required("endpoint").mapping(supported: ["address"])
                addresses.append(try endpoint.required("address").address(rule))
            }
        }
        guard !addresses.isEmpty else { throw localities.error("a cluster needs at least one endpoint") }
        if type == .logicalDNS, addresses.count != 1 {
            throw localities.error("a LOGICAL_DNS cluster has exactly one endpoint (Envoy rejects more), got \(addresses.count)")
        }
        return addresses
    }

    /// `http2_protocol_options: {}`: only its presence (HTTP/2 upstream) is supported.
    func http2ProtocolOptions() throws(ProxyConfigError) -> Cluster.UpstreamProtocol {
        _ = try mapping(supported: [])
        return .http2
    }

    /// `typed_extension_protocol_options` with the one extension alts-proxy implements,
    /// envoy.extensions.upstreams.http.v3.HttpProtocolOptions, set to an explicit protocol.
    func typedExtensionProtocolOptions() throws(ProxyConfigError) -> Cluster.UpstreamProtocol? {
        let options = try mapping(supported: [Extension.httpProtocolOptions.name])
        guard let protocolNode = options[Extension.httpProtocolOptions.name] else { return nil }
        let mapping = try protocolNode.mapping(supported: ["@type", "explicit_http_config"])
        let type = try mapping.required("@type")
        let url = try type.string()
        guard url == Extension.httpProtocolOptions.typeURL else {
            throw type.error("wrong @type '\(url)' (expected \(Extension.httpProtocolOptions.typeURL))")
        }
        let explicitNode = try mapping.required("explicit_http_config")
        let explicit = try explicitNode.mapping(supported: ["http_protocol_options", "http2_protocol_options"])
        switch (explicit["http_protocol_options"], explicit["http2_protocol_options"]) {
        case (let http1?, nil):
            _ = try http1.mapping(supported: [])
            return .http1
        case (nil, let http2?):
            return try http2.http2ProtocolOptions()
        default:
            throw explicitNode.error("explicit_http_config takes one of http_protocol_options and http2_protocol_options")
        }
    }
}
