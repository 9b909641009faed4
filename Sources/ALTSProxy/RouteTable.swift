import ALTSProxyConfig

/// A request's route: the virtual host and route that matched, and the headers to add, most
/// general first (route_config, then virtual host, then route), so that the most specific
/// OVERWRITE wins.
struct ResolvedRoute: Equatable {
    let virtualHost: VirtualHost
    let route: Route
    let headersToAdd: [HeaderValueOption]

    var action: RouteAction { route.action }
}

/// Envoy's route selection: the virtual host by domain (exact, then `*.suffix` longest first,
/// then `prefix*` longest first, then `*`), then its first route whose match accepts the path.
/// Built once per listener: the domains are lower-cased and the exact ones indexed up front,
/// so a request costs one dictionary look-up in the usual case.
struct RouteTable: Sendable {
    let config: RouteConfig
    /// Exact domains (lower-cased) to the first virtual host that lists them.
    private let exactDomains: [String: VirtualHost]
    /// Domains with a `*` at either end (but not `*` alone), lower-cased, in config order.
    private let wildcardDomains: [(domain: String, virtualHost: VirtualHost)]
    private let catchAll: VirtualHost?

    init(config: RouteConfig) {
        self.config = config
        var exact: [String: VirtualHost] = [:]
        var wildcards: [(domain: String, virtualHost: VirtualHost)] = []
        for virtualHost in config.virtualHosts {
            for domain in virtualHost.domains.map({ $0.lowercased() }) where domain != "*" {
                if domain.hasPrefix("*") || domain.hasSuffix("*") {
                    wildcards.append((domain, virtualHost))
                } else if exact[domain] == nil {
                    exact[domain] = virtualHost
                }
            }
        }
        exactDomains = exact
        wildcardDomains = wildcards
        catchAll = config.virtualHosts.first { $0.domains.contains("*") }
    }

    func resolve(authority: String?, path: String) -> ResolvedRoute? {
        guard let virtualHost = virtualHost(for: authority ?? "") else { return nil }
        guard let route = virtualHost.routes.first(where: { Self.matches($0.match, path: path) }) else { return nil }
        return ResolvedRoute(
            virtualHost: virtualHost, route: route,
            headersToAdd: config.requestHeadersToAdd + virtualHost.requestHeadersToAdd + route.requestHeadersToAdd
        )
    }

    func virtualHost(for authority: String) -> VirtualHost? {
        // The common sidecar shape: one virtual host for every domain.
        if exactDomains.isEmpty && wildcardDomains.isEmpty { return catchAll }
        let host = authority.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? authority.lowercased() : authority
        if let found = bestDomainMatch(host) { return found }
        // Envoy matches the Host with its port first; a domain list without ports still
        // matches a request to host:port.
        if let portless = Self.stripPort(host), let found = bestDomainMatch(portless) { return found }
        return catchAll
    }

    private func bestDomainMatch(_ host: String) -> VirtualHost? {
        if let exact = exactDomains[host] { return exact }
        var best: (virtualHost: VirtualHost, rank: Int, length: Int)?
        for (domain, virtualHost) in wildcardDomains {
            let candidate: (rank: Int, length: Int)?
            if domain.hasPrefix("*"), host.hasSuffix(domain.dropFirst()), host.count > domain.count - 1 {
                candidate = (2, domain.count)
            } else if domain.hasSuffix("*"), host.hasPrefix(domain.dropLast()), host.count > domain.count - 1 {
                candidate = (1, domain.count)
            } else {
                candidate = nil
            }
            if let candidate, best == nil || (candidate.rank, candidate.length) > (best!.rank, best!.length) {
                best = (virtualHost, candidate.rank, candidate.length)
            }
        }
        return best?.virtualHost
    }

    static func stripPort(_ host: String) -> String? {
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]"), host.index(after: close) < host.endIndex else { return nil }
            return String(host[...close])
        }
        guard let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon else { return nil }
        return String(host[..<colon])
    }

    /// `prefix` compares against the whole :path (query included), `path` against the path
    /// without its query, both case-sensitively: Envoy's defaults.
    static func matches(_ match: Route.Match, path: String) -> Bool {
        switch match {
        case .prefix(let prefix):
            return path.hasPrefix(prefix)
        case .path(let exact):
            return pathWithoutQuery(path) == exact
        }
    }

    static func pathWithoutQuery(_ path: String) -> Substring {
        path[..<(path.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? path.endIndex)]
    }

    /// prefix_rewrite replaces the matched prefix (or, for a `path` match, the whole path
    /// before the query).
    static func rewrite(path: String, match: Route.Match, prefixRewrite: String?) -> String {
        guard let prefixRewrite else { return path }
        switch match {
        case .prefix(let prefix):
            return prefixRewrite + path.dropFirst(prefix.count)
        case .path:
            return prefixRewrite + path.dropFirst(pathWithoutQuery(path).count)
        }
    }
}
