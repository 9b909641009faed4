/// The extension names and `@type` URLs alts-proxy knows. Envoy finds an extension by its
/// typed_config's type URL (the `name` is then only a label), so the loader does the same when
/// the name is not one of these.
enum Extension {
    struct Name: Equatable {
        let name: String
        let typeURL: String
    }

    static let httpConnectionManager = Name(
        name: "envoy.filters.network.http_connection_manager",
        typeURL: "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    )
    static let tcpProxy = Name(
        name: "envoy.filters.network.tcp_proxy",
        typeURL: "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
    )
    static let router = Name(
        name: "envoy.filters.http.router",
        typeURL: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
    )
    static let alts = Name(
        name: "envoy.transport_sockets.alts",
        typeURL: "type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts"
    )
    static let rawBuffer = Name(
        name: "envoy.transport_sockets.raw_buffer",
        typeURL: "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"
    )
    static let httpProtocolOptions = Name(
        name: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        typeURL: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    )
}

/// `name` + `typed_config`, the shape of every Envoy extension (filters, transport sockets).
struct TypedExtension {
    let node: ConfigNode
    let name: String
    let typedConfig: ConfigNode?

    /// The `@type` of typed_config, if it has one (read without checking its other keys).
    var typeURL: String? {
        guard let typedConfig, case .mapping(let mapping) = typedConfig.node,
              let value = mapping["@type"], case .scalar(let scalar) = value
        else { return nil }
        return scalar.string
    }

    /// Which of `known` this extension is: by name, or else by type URL as Envoy looks it up.
    func resolve(among known: [Extension.Name]) -> Extension.Name? {
        known.first { $0.name == name } ?? known.first { $0.typeURL == typeURL }
    }

    /// typed_config as the mapping of `expected`: `@type` must be exactly its type URL, and
    /// the other keys must be among `supported`. Nil when typed_config is absent and optional.
    func config(of expected: Extension.Name, supported: [String], required: Bool = true) throws(ProxyConfigError) -> ConfigMapping? {
        guard let typedConfig else {
            if !required { return nil }
            throw ProxyConfigError(path: node.path(ofKey: "typed_config"), message: "missing required field 'typed_config' (with \"@type\": \(expected.typeURL))")
        }
        let mapping = try typedConfig.mapping(supported: ["@type"] + supported)
        guard let type = mapping["@type"] else {
            throw ProxyConfigError(path: typedConfig.path(ofKey: "@type"), message: "missing required field '@type' (expected \(expected.typeURL))")
        }
        let url = try type.string()
        guard url == expected.typeURL else {
            throw type.error("wrong @type '\(url)' for \(expected.name) (expected \(expected.typeURL))")
        }
        return mapping
    }
}

extension ConfigNode {
    /// A `{ name, typed_config }` mapping (plus `extraKeys`, such as a filter chain's `name`).
    func typedExtension(extraKeys: [String] = []) throws(ProxyConfigError) -> (TypedExtension, ConfigMapping) {
        let mapping = try self.mapping(supported: ["name", "typed_config"] + extraKeys)
        let name = try mapping.required("name").nonEmptyString()
        return (TypedExtension(node: self, name: name, typedConfig: mapping["typed_config"]), mapping)
    }
}
