import ALTSProxyConfig
import Foundation
import Testing

/// The repository's own YAML files: the demo's envoy/ pair and the interop templates that a
/// real Envoy also runs.
@Suite("Shipped configurations")
struct ShippedConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("envoy/client.yaml: :18080 plain HTTP to alts-server:18081 over ALTS, server account required")
    func client() throws {
        let bootstrap = try ProxyBootstrap.load(contentsOfFile: Self.repository + "/envoy/client.yaml")
        #expect(bootstrap.admin == SocketAddressSpec(address: "127.0.0.1", port: 9901))
        #expect(bootstrap.listeners.count == 1)
        let listener = bootstrap.listeners[0]
        #expect(listener.name == "http_in")
        #expect(listener.address == SocketAddressSpec(address: "0.0.0.0", port: 18080))
        #expect(listener.filterChain.transportSocket == nil)
        guard case .httpConnectionManager(let hcm) = listener.filterChain.filter else {
            Issue.record("expected an http_connection_manager")
            return
        }
        #expect(hcm.statPrefix == "client_http")
        #expect(hcm.codecType == .auto)
        #expect(hcm.serverName == "alts-proxy")
        #expect(hcm.routeConfig.virtualHosts == [
            VirtualHost(name: "everything", domains: ["*"], routes: [Route(match: .prefix("/"), action: RouteAction(cluster: "alts_server"))]),
        ])
        #expect(bootstrap.clusters == [Cluster(
            name: "alts_server", connectTimeout: .seconds(5), type: .strictDNS,
            endpoints: [SocketAddressSpec(address: "alts-server", port: 18081)],
            transportSocket: ALTSTransportSocketConfig(
                handshakerService: "127.0.0.1:8080",
                peerServiceAccounts: ["alts-server@swift-alts-demo.iam.gserviceaccount.com"]
            )
        )])
    }

    @Test("envoy/server.yaml: ALTS in on :18081, client account required, plain HTTP to httpbin")
    func server() throws {
        let bootstrap = try ProxyBootstrap.load(contentsOfFile: Self.repository + "/envoy/server.yaml")
        let listener = bootstrap.listeners[0]
        #expect(listener.address == SocketAddressSpec(address: "0.0.0.0", port: 18081))
        #expect(listener.filterChain.transportSocket == ALTSTransportSocketConfig(
            handshakerService: "127.0.0.1:8080",
            peerServiceAccounts: ["alts-client@swift-alts-demo.iam.gserviceaccount.com"]
        ))
        #expect(bootstrap.clusters == [Cluster(name: "httpbin", connectTimeout: .seconds(2), endpoints: [SocketAddressSpec(address: "127.0.0.1", port: 8000)])])
    }

    @Test("The interop templates, rendered as the tests render them, load", arguments: ["client.yaml.in", "server.yaml.in"])
    func interopTemplates(_ name: String) throws {
        var text = try String(contentsOfFile: Self.repository + "/interop/envoy/" + name, encoding: .utf8)
        for (placeholder, value) in [
            ("@@CLIENT_IP@@", "10.200.1.1"), ("@@SERVER_IP@@", "10.200.1.2"), ("@@CLIENT_PORT@@", "18080"),
            ("@@SERVER_PORT@@", "18081"), ("@@UPSTREAM_PORT@@", "8000"), ("@@CLIENT_ADMIN_PORT@@", "9901"),
            ("@@SERVER_ADMIN_PORT@@", "9902"), ("@@SERVER_ACCOUNT@@", "alts-server@p.iam.gserviceaccount.com"),
            ("@@CLIENT_ACCOUNT@@", "alts-client@p.iam.gserviceaccount.com"),
        ] {
            text = text.replacingOccurrences(of: placeholder, with: value)
        }
        let unfilled = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("@@") }
        #expect(unfilled.isEmpty, "placeholders this test does not know: \(unfilled)")
        let bootstrap = try ProxyBootstrap.load(yaml: text)
        #expect(bootstrap.listeners.count == 1)
    }

    @Test("config_dump shows the running configuration with Envoy's defaults made explicit")
    func configDump() throws {
        let bootstrap = try ProxyBootstrap.load(contentsOfFile: Self.repository + "/envoy/client.yaml")
        let json = bootstrap.configDumpJSON()
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let config = (object["configs"] as! [[String: Any]])[0]
        #expect(config["@type"] as? String == "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump")
        let resources = (config["bootstrap"] as! [String: Any])["static_resources"] as! [String: Any]
        let cluster = (resources["clusters"] as! [[String: Any]])[0]
        #expect(cluster["type"] as? String == "STRICT_DNS")
        #expect(cluster["connect_timeout"] as? String == "5s")
        let socket = (cluster["transport_socket"] as! [String: Any])["typed_config"] as! [String: Any]
        #expect(socket["peer_service_accounts"] as? [String] == ["alts-server@swift-alts-demo.iam.gserviceaccount.com"])
        #expect(json.contains("\"timeout\" : \"15s\"") || json.contains("\"timeout\":\"15s\""), "the route timeout default")
        #expect(json.contains("\"stream_idle_timeout\" : \"300s\"") || json.contains("\"stream_idle_timeout\":\"300s\""))
    }
}
