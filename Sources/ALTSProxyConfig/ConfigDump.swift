import Foundation

extension ProxyBootstrap {
    /// The running configuration for the admin `/config_dump`, in Envoy's shape (a
    /// BootstrapConfigDump whose bootstrap is v3 proto JSON with every default made explicit),
    /// so that what alts-proxy actually runs can be read back and diffed against the file.
    public func configDumpJSON() -> String {
        let dump: [String: Any] = [
            "configs": [[
                "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
                "bootstrap": bootstrapJSON(),
            ]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: dump, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private func bootstrapJSON() -> [String: Any] {
        var bootstrap: [String: Any] = [
            "static_resources": [
                "listeners": listeners.map(\.json),
                "clusters": clusters.map(\.json),
            ],
        ]
        if let admin { bootstrap["admin"] = ["address": admin.json] }
        return bootstrap
    }
}

private extension SocketAddressSpec {
    var json: [String: Any] { ["socket_address": ["address": address, "port_value": port]] }
}

private extension ALTSTransportSocketConfig {
    var json: [String: Any] {
        [
            "name": Extension.alts.name,
            "typed_config": [
                "@type": Extension.alts.typeURL,
                "handshaker_service": handshakerService,
                "peer_service_accounts": peerServiceAccounts,
            ],
        ]
    }
}

private func durationJSON(_ duration: Duration?) -> String {
    duration.map(EnvoyDuration.format) ?? "0s"
}

private extension Listener {
    var json: [String: Any] {
        var chain: [String: Any] = ["filters": [filterChain.filter.json]]
        if let socket = filterChain.transportSocket { chain["transport_socket"] = socket.json }
        return ["name": name, "address": address.json, "filter_chains": [chain]]
    }
}

private extension NetworkFilter {
    var json: [String: Any] {
        switch self {
        case .httpConnectionManager(let config):
            return [
                "name": Extension.httpConnectionManager.name,
                "typed_config": [
                    "@type": Extension.httpConnectionManager.typeURL,
                    "stat_prefix": config.statPrefix,
                    "codec_type": config.codecType.rawValue,
                    "server_name": config.serverName,
                    "stream_idle_timeout": durationJSON(config.streamIdleTimeout),
                    "request_timeout": durationJSON(config.requestTimeout),
                    "route_config": config.routeConfig.json,
                    "http_filters": [[
                        "name": Extension.router.name,
                        "typed_config": ["@type": Extension.router.typeURL],
                    ]],
                ] as [String: Any],
            ]
        case .tcpProxy(let config):
            return [
                "name": Extension.tcpProxy.name,
                "typed_config": [
                    "@type": Extension.tcpProxy.typeURL,
                    "stat_prefix": config.statPrefix,
                    "cluster": config.cluster,
                    "idle_timeout": durationJSON(config.idleTimeout),
                ] as [String: Any],
            ]
        }
    }
}

private extension RouteConfig {
    var json: [String: Any] {
        var json: [String: Any] = [
            "virtual_hosts": virtualHosts.map(\.json),
            "request_headers_to_add": requestHeadersToAdd.map(\.json),
        ]
        if let name { json["name"] = name }
        return json
    }
}

private extension VirtualHost {
    var json: [String: Any] {
        [
            "name": name,
            "domains": domains,
            "routes": routes.map(\.json),
            "request_headers_to_add": requestHeadersToAdd.map(\.json),
        ]
    }
}

private extension Route {
    var json: [String: Any] {
        let match: [String: Any]
        switch self.match {
        case .prefix(let prefix): match = ["prefix": prefix]
        case .path(let path): match = ["path": path]
        }
        var route: [String: Any] = ["cluster": action.cluster, "timeout": durationJSON(action.timeout)]
        if let rewrite = action.prefixRewrite { route["prefix_rewrite"] = rewrite }
        if let host = action.hostRewriteLiteral { route["host_rewrite_literal"] = host }
        return ["match": match, "route": route, "request_headers_to_add": requestHeadersToAdd.map(\.json)]
    }
}

private extension HeaderValueOption {
    var json: [String: Any] {
        ["header": ["key": key, "value": value], "append_action": appendAction.rawValue]
    }
}

private extension Cluster {
    var json: [String: Any] {
        var json: [String: Any] = [
            "name": name,
            "connect_timeout": EnvoyDuration.format(connectTimeout),
            "type": type.rawValue,
            "lb_policy": lbPolicy,
            "load_assignment": [
                "cluster_name": name,
                "endpoints": [["lb_endpoints": endpoints.map { ["endpoint": ["address": $0.json]] }]],
            ] as [String: Any],
        ]
        if upstreamProtocol == .http2 {
            json["typed_extension_protocol_options"] = [
                Extension.httpProtocolOptions.name: [
                    "@type": Extension.httpProtocolOptions.typeURL,
                    "explicit_http_config": ["http2_protocol_options": [String: Any]()],
                ] as [String: Any],
            ]
        }
        if let socket = transportSocket { json["transport_socket"] = socket.json }
        return json
    }
}
