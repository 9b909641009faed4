extension ConfigNode {
    /// `static_resources.listeners[i]` (envoy.config.listener.v3.Listener).
    func listener(index: Int, clusters: [Cluster]) throws(ProxyConfigError) -> Listener {
        let mapping = try self.mapping(supported: ["name", "address", "filter_chains"])
        // Envoy names an unnamed listener itself; ours follow its list position.
        let name = try mapping["name"]?.nonEmptyString() ?? "listener_\(index)"
        let address = try mapping.required("address").address(.bind)
        let chainsNode = try mapping.required("filter_chains")
        let chains = try chainsNode.sequence()
        guard chains.count == 1 else {
            throw chainsNode.error("exactly one filter chain is supported (filter_chain_match is not), got \(chains.count)")
        }
        return Listener(name: name, address: address, filterChain: try chains[0].filterChain(clusters: clusters))
    }

    /// `filter_chains[0]`: an optional transport socket and one terminal network filter.
    func filterChain(clusters: [Cluster]) throws(ProxyConfigError) -> FilterChain {
        let mapping = try self.mapping(supported: ["name", "filters", "transport_socket"])
        _ = try mapping["name"]?.string()
        let socket = try mapping["transport_socket"]?.transportSocket()
        let filtersNode = try mapping.required("filters")
        let filters = try filtersNode.sequence()
        guard filters.count == 1 else {
            throw filtersNode.error("exactly one network filter is supported (\(Extension.httpConnectionManager.name) or \(Extension.tcpProxy.name)), got \(filters.count)")
        }
        return FilterChain(transportSocket: socket, filter: try filters[0].networkFilter(clusters: clusters))
    }

    func networkFilter(clusters: [Cluster]) throws(ProxyConfigError) -> NetworkFilter {
        let (filter, _) = try typedExtension()
        switch filter.resolve(among: [Extension.httpConnectionManager, Extension.tcpProxy]) {
        case Extension.httpConnectionManager?:
            let config = try filter.config(of: Extension.httpConnectionManager, supported: [
                "stat_prefix", "codec_type", "route_config", "http_filters", "server_name",
                "stream_idle_timeout", "request_timeout",
            ])!
            return .httpConnectionManager(try config.httpConnectionManager(clusters: clusters))
        case Extension.tcpProxy?:
            let config = try filter.config(of: Extension.tcpProxy, supported: ["stat_prefix", "cluster", "idle_timeout"])!
            let statPrefix = try config.required("stat_prefix").nonEmptyString()
            let clusterNode = try config.required("cluster")
            let cluster = try clusterNode.clusterReference(clusters)
            var tcpProxy = TCPProxyConfig(statPrefix: statPrefix, cluster: cluster)
            if let idle = config["idle_timeout"] { tcpProxy.idleTimeout = try idle.timeoutDisabledByZero() }
            return .tcpProxy(tcpProxy)
        default:
            throw ProxyConfigError(
                path: path(ofKey: "name"),
                message: "unsupported network filter '\(filter.name)' (alts-proxy supports: \(Extension.httpConnectionManager.name), \(Extension.tcpProxy.name))"
            )
        }
    }

    /// A cluster name that must be one of `clusters`.
    func clusterReference(_ clusters: [Cluster]) throws(ProxyConfigError) -> String {
        let name = try nonEmptyString()
        guard clusters.contains(where: { $0.name == name }) else {
            let known = clusters.map(\.name).joined(separator: ", ")
            throw error("unknown cluster '\(name)' (static_resources.clusters has: \(known.isEmpty ? "none" : known))")
        }
        return name
    }
}

extension ConfigMapping {
    func httpConnectionManager(clusters: [Cluster]) throws(ProxyConfigError) -> HTTPConnectionManagerConfig {
        let statPrefix = try required("stat_prefix").nonEmptyString()
        let codec = try self["codec_type"]?.enumeration(
            HTTPConnectionManagerConfig.CodecType.self, field: "codec_type", supported: [.auto, .http1, .http2]
        ) ?? .auto
        let serverName = try self["server_name"]?.nonEmptyString() ?? "alts-proxy"
        let routeConfig = try required("route_config").routeConfig(clusters: clusters)
        try required("http_filters").httpFilters()
        var config = HTTPConnectionManagerConfig(statPrefix: statPrefix, codecType: codec, serverName: serverName, routeConfig: routeConfig)
        if let idle = self["stream_idle_timeout"] { config.streamIdleTimeout = try idle.timeoutDisabledByZero() }
        if let request = self["request_timeout"] { config.requestTimeout = try request.timeoutDisabledByZero() }
        return config
    }
}

extension ConfigNode {
    /// The router must be there and last, as Envoy requires; alts-proxy has no other HTTP
    /// filters, so it must be alone, and its own options are not implemented.
    func httpFilters() throws(ProxyConfigError) {
        let filters = try sequence()
        guard filters.count == 1 else {
            throw error("exactly one http filter, \(Extension.router.name), is supported; got \(filters.count)")
        }
        let (router, _) = try filters[0].typedExtension()
        guard router.resolve(among: [Extension.router]) != nil else {
            throw ProxyConfigError(
                path: filters[0].path(ofKey: "name"),
                message: "unsupported http filter '\(router.name)' (alts-proxy supports: \(Extension.router.name))"
            )
        }
        _ = try router.config(of: Extension.router, supported: [], required: false)
    }

    /// `route_config` (envoy.config.route.v3.RouteConfiguration), inline only.
    func routeConfig(clusters: [Cluster]) throws(ProxyConfigError) -> RouteConfig {
        let mapping = try self.mapping(supported: ["name", "virtual_hosts", "request_headers_to_add"])
        let name = try mapping["name"]?.string()
        let hostsNode = try mapping.required("virtual_hosts")
        var hosts: [VirtualHost] = []
        for element in try hostsNode.sequence() {
            hosts.append(try element.virtualHost(clusters: clusters))
        }
        guard !hosts.isEmpty else { throw hostsNode.error("at least one virtual host is needed") }
        var seenDomains: Set<String> = []
        for (index, host) in hosts.enumerated() {
            for domain in host.domains where !seenDomains.insert(domain.lowercased()).inserted {
                throw ProxyConfigError(path: "\(hostsNode.path)[\(index)].domains", message: "domain '\(domain)' is in two virtual hosts (Envoy rejects this too)")
            }
        }
        let headers = try mapping["request_headers_to_add"]?.headerValueOptions() ?? []
        return RouteConfig(name: name, virtualHosts: hosts, requestHeadersToAdd: headers)
    }

    func virtualHost(clusters: [Cluster]) throws(ProxyConfigError) -> VirtualHost {
        let mapping = try self.mapping(supported: ["name", "domains", "routes", "request_headers_to_add"])
        let name = try mapping.required("name").nonEmptyString()
        let domainsNode = try mapping.required("domains")
        let domains = try domainsNode.stringList()
        guard !domains.isEmpty else { throw domainsNode.error("at least one domain is needed (\"*\" matches any)") }
        for domain in domains where !DomainPattern.isValid(domain) {
            throw domainsNode.error("invalid domain '\(domain)': one '*' at most, and only at the start or the end")
        }
        var routes: [Route] = []
        if let routesNode = mapping["routes"] {
            for element in try routesNode.sequence() {
                routes.append(try element.route(clusters: clusters))
            }
        }
        let headers = try mapping["request_headers_to_add"]?.headerValueOptions() ?? []
        return VirtualHost(name: name, domains: domains, routes: routes, requestHeadersToAdd: headers)
    }

    func route(clusters: [Cluster]) throws(ProxyConfigError) -> Route {
        let mapping = try self.mapping(supported: ["name", "match", "route", "request_headers_to_add"])
        _ = try mapping["name"]?.string()
        let matchNode = try mapping.required("match")
        let match = try matchNode.mapping(supported: ["prefix", "path"])
        let routeMatch: Route.Match
        switch (match["prefix"], match["path"]) {
        case (let prefix?, nil):
            routeMatch = .prefix(try prefix.string())
        case (nil, let path?):
            let value = try path.string()
            guard value.hasPrefix("/") else { throw path.error("a path match must start with '/'") }
            routeMatch = .path(value)
        case (nil, nil):
            throw matchNode.error("a match needs 'prefix' or 'path'")
        case (_?, _?):
            throw matchNode.error("a match takes one of 'prefix' and 'path', not both")
        }
        let actionNode = try mapping.required("route")
        let action = try actionNode.mapping(supported: ["cluster", "prefix_rewrite", "host_rewrite_literal", "timeout"])
        let cluster = try action.required("cluster").clusterReference(clusters)
        var routeAction = RouteAction(cluster: cluster)
        routeAction.prefixRewrite = try action["prefix_rewrite"]?.string()
        if let host = action["host_rewrite_literal"] {
            routeAction.hostRewriteLiteral = try host.nonEmptyString()
        }
        if let timeout = action["timeout"] { routeAction.timeout = try timeout.timeoutDisabledByZero() }
        let headers = try mapping["request_headers_to_add"]?.headerValueOptions() ?? []
        return Route(match: routeMatch, action: routeAction, requestHeadersToAdd: headers)
    }

    /// `request_headers_to_add[]` (envoy.config.core.v3.HeaderValueOption).
    func headerValueOptions() throws(ProxyConfigError) -> [HeaderValueOption] {
        var options: [HeaderValueOption] = []
        for element in try sequence() {
            let mapping = try element.mapping(supported: ["header", "append", "append_action", "keep_empty_value"])
            let header = try mapping.required("header").mapping(supported: ["key", "value"])
            let keyNode = try header.required("key")
            let key = try keyNode.nonEmptyString()
            guard HeaderName.isValid(key) else { throw keyNode.error("invalid header name '\(key)'") }
            guard !HeaderName.isReserved(key) else {
                throw keyNode.error("header '\(key)' cannot be set by configuration (host, framing, hop-by-hop and x-alts-peer-service-account are the proxy's)")
            }
            let valueNode = header["value"]
            let value = try valueNode?.string() ?? ""
            guard !value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }) else {
                throw (valueNode ?? keyNode).error("a header value must not contain CR, LF or NUL")
            }
            if let keepEmpty = mapping["keep_empty_value"], try keepEmpty.bool() {
                throw keepEmpty.error("keep_empty_value is not supported (empty values are never added)")
            }
            var action = HeaderValueOption.AppendAction.appendIfExistsOrAdd
            switch (mapping["append"], mapping["append_action"]) {
            case (let append?, nil):
                action = try append.bool() ? .appendIfExistsOrAdd : .overwriteIfExistsOrAdd
            case (nil, let appendAction?):
                action = try appendAction.enumeration(
                    HeaderValueOption.AppendAction.self, field: "append_action",
                    supported: [.appendIfExistsOrAdd, .addIfAbsent, .overwriteIfExistsOrAdd]
                )
            case (nil, nil):
                break
            case (_?, let appendAction?):
                throw appendAction.error("'append' and 'append_action' are exclusive (Envoy rejects both)")
            }
            options.append(HeaderValueOption(key: key.lowercased(), value: value, appendAction: action))
        }
        return options
    }
}

enum DomainPattern {
    static func isValid(_ domain: String) -> Bool {
        guard !domain.isEmpty else { return false }
        let stars = domain.filter { $0 == "*" }.count
        if stars == 0 { return true }
        return stars == 1 && (domain.hasPrefix("*") || domain.hasSuffix("*"))
    }
}

enum HeaderName {
    /// RFC 9110 token characters.
    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    static func isReserved(_ name: String) -> Bool {
        ["host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "content-length", "x-alts-peer-service-account"]
            .contains(name.lowercased())
    }
}
